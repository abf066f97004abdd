#include "ingest/hl7_mapper.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "core/json.h"

namespace medhub::ingest::hl7 {
namespace {

std::string ReadShared(const std::string& rel) {
  std::ifstream in(std::string(MEDHUB_SHARED_DATA) + "/hl7v2/" + rel, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Mapped MapOk(const std::string& text) {
  auto m = Parse(text);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return {};
  auto mapped = MapMessage(*m);
  EXPECT_TRUE(mapped.ok()) << mapped.status().ToString();
  return mapped.ok() ? *mapped : Mapped{};
}

const json::Value* OfType(const Mapped& m, std::string_view type, size_t nth = 0) {
  for (const json::Value& r : m.resources)
    if (r.get_string("resourceType") == type && nth-- == 0) return &r;
  return nullptr;
}

TEST(Hl7Mapper, AdtA01BecomesAPatientAndAnInpatientEncounter) {
  Mapped out = MapOk(ReadShared("rethinkhealth/qa_adt-a01-full.hl7"));
  ASSERT_EQ(out.resources.size(), 2u);
  const json::Value& p = *OfType(out, "Patient");
  EXPECT_EQ(p.find("name")->items()[0].get_string("family"), "SMITH");
  EXPECT_EQ(json::Serialize(*p.find("name")->items()[0].find("given")), R"(["ALICE","M"])");
  EXPECT_EQ(p.find("name")->items()[0].find("suffix")->items()[0].text(), "JR");
  EXPECT_EQ(p.find("name")->items()[0].find("prefix")->items()[0].text(), "Dr");
  EXPECT_EQ(p.get_string("gender"), "female");
  EXPECT_EQ(p.get_string("birthDate"), "1975-03-15");
  const auto& ids = p.find("identifier")->items();
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(ids[0].get_string("value"), "98765");
  EXPECT_EQ(ids[0].get_string("system"), "urn:medhub:hl7:cs:MRN");
  EXPECT_EQ(ids[1].get_string("value"), "555-12-3456");
  const json::Value& addr = p.find("address")->items()[0];
  EXPECT_EQ(addr.find("line")->items()[0].text(), "456 OAK AVE");
  EXPECT_EQ(addr.get_string("city"), "METROPOLIS");
  EXPECT_EQ(addr.get_string("postalCode"), "62960");
  EXPECT_EQ(p.find("telecom")->items()[0].get_string("value"), "217-555-9876");
  const json::Value& e = *OfType(out, "Encounter");
  EXPECT_EQ(e.get_string("status"), "in-progress");
  EXPECT_EQ(e.find("class")->get_string("code"), "IMP");
  EXPECT_EQ(e.find("subject")->get_string("reference"),
            "Patient/" + std::string(p.get_string("id")));
  EXPECT_EQ(e.find("period")->get_string("start"), "2026-04-01T08:30:00Z");
  EXPECT_EQ(e.find("location")->items()[0].find("location")->get_string("display"), "ICU 201 A");
}

TEST(Hl7Mapper, OruR01BecomesObservationsAndADiagnosticReportThatListsThem) {
  Mapped out = MapOk(ReadShared("rethinkhealth/qa_oru-r01-lab.hl7"));
  ASSERT_EQ(out.resources.size(), 7u);  // Patient, 5 Observations, 1 report
  const json::Value& wbc = *OfType(out, "Observation", 0);
  const json::Value& code = wbc.find("code")->find("coding")->items()[0];
  EXPECT_EQ(code.get_string("system"), "http://loinc.org");
  EXPECT_EQ(code.get_string("code"), "WBC");
  EXPECT_EQ(wbc.find("valueQuantity")->find("value")->text(), "7.5");
  EXPECT_EQ(wbc.find("valueQuantity")->get_string("code"), "10*3/uL");
  EXPECT_EQ(wbc.find("referenceRange")->items()[0].get_string("text"), "4.5-11.0");
  EXPECT_EQ(wbc.get_string("status"), "final");
  EXPECT_EQ(wbc.get_string("effectiveDateTime"), "2026-03-09T10:00:00Z");
  const json::Value& report = *OfType(out, "DiagnosticReport");
  EXPECT_EQ(report.find("code")->find("coding")->items()[0].get_string("code"), "CBC");
  ASSERT_EQ(report.find("result")->items().size(), 5u);
  EXPECT_EQ(report.find("result")->items()[0].get_string("reference"),
            "Observation/" + std::string(wbc.get_string("id")));
}

TEST(Hl7Mapper, CodedTextAndTimeValuesGetTheirFhirTypes) {
  Mapped out = MapOk(
      "MSH|^~\\&|LAB|F|||20260101||ORU^R01|9|P|2.5\r"
      "PID|1||42^^^H\r"
      "OBR|1||F1|X^Panel^LN\r"
      "OBX|1|CWE|1^Test^LN||260385009^Negative^SCT\r"
      "OBX|2|TX|2^Note^LN||line one~line two\r"
      "OBX|3|SN|3^Ratio^LN||<^0.5|mg\r"
      "OBX|4|DTM|4^When^LN||20091028123702+0200\r");
  EXPECT_EQ(OfType(out, "Observation", 0)
                ->find("valueCodeableConcept")
                ->find("coding")
                ->items()[0]
                .get_string("system"),
            "http://snomed.info/sct");
  EXPECT_EQ(OfType(out, "Observation", 1)->get_string("valueString"), "line one\nline two");
  const json::Value* q = OfType(out, "Observation", 2)->find("valueQuantity");
  EXPECT_EQ(q->get_string("comparator"), "<");
  EXPECT_EQ(q->find("value")->text(), "0.5");
  EXPECT_EQ(OfType(out, "Observation", 3)->get_string("valueDateTime"),
            "2009-10-28T12:37:02+02:00");
}

TEST(Hl7Mapper, TheSamePatientGetsTheSameIdInEveryMessageFromOneFacility) {
  Mapped a01 =
      MapOk("MSH|^~\\&|A|HOSP|||20260101||ADT^A01|1|P|2.5\rPID|1||77^^^MRN||DOE^J\rPV1|1|I\r");
  Mapped a08 = MapOk("MSH|^~\\&|A|HOSP|||20260102||ADT^A08|2|P|2.5\rPID|1||77^^^MRN||DOE^JANE\r");
  Mapped other = MapOk("MSH|^~\\&|A|CLINIC|||20260102||ADT^A08|2|P|2.5\rPID|1||77^^^MRN||DOE^J\r");
  EXPECT_EQ(a01.resources[0].get_string("id"), a08.resources[0].get_string("id"));
  EXPECT_NE(a01.resources[0].get_string("id"), other.resources[0].get_string("id"));
  EXPECT_EQ(a08.resources.size(), 1u);  // A08 without PV1 updates the Patient only
}

TEST(Hl7Mapper, UnsupportedAndInvalidMessagesAreRefusedWithTheRightCode) {
  struct Case {
    const char* text;
    int code;
    const char* ack;
  };
  for (const Case& c : {
           Case{"MSH|^~\\&|A|F|||1||ORM^O01|1|P|2.5\rPID|1||1\r", 200, "AR"},
           Case{"MSH|^~\\&|A|F|||1||ADT^A03|1|P|2.5\rPID|1||1\r", 201, "AR"},
           Case{"MSH|^~\\&|A|F|||1||ADT^A01|1|P|1.0\rPID|1||1\r", 203, "AR"},
           Case{"MSH|^~\\&|A|F|||1||ADT^A01|1|P|2.999\rPID|1||1\r", 203, "AR"},
           Case{"MSH|^~\\&|A|F|||1||ADT^A01|1|P|2.5\rPV1|1|I\r", 100, "AE"},
           Case{"MSH|^~\\&|A|F|||1||ADT^A01|1|P|2.5\rPID|1||\r", 101, "AE"},
           Case{"MSH|^~\\&|A|F|||1||ADT^A01|1|P|2.5\rPID|1||1||X||19801301\r", 102, "AE"},
           Case{"MSH|^~\\&|A|F|||1||ORU^R01|1|P|2.5\rPID|1||1\rOBX|1|NM|1^X^LN||abc\r", 102, "AE"},
           Case{"MSH|^~\\&|A|F|||1||ORU^R01|1|P|2.5\rPID|1||1\rOBX|1|ST|||v\r", 101, "AE"},
       }) {
    auto m = Parse(c.text);
    ASSERT_TRUE(m.ok()) << c.text;
    auto mapped = MapMessage(*m);
    ASSERT_FALSE(mapped.ok()) << c.text;
    EXPECT_EQ(ErrorCode(mapped.status()), c.code) << c.text << " " << mapped.status().message();
    EXPECT_EQ(AckCodeFor(mapped.status()), c.ack) << c.text;
  }
}

TEST(Hl7Mapper, AcksCarryTheOriginalControlIdAndNaksTheReasonInMsaAndErr) {
  auto m = Parse("MSH|^~\\&|SND|FAC|RCV|RF|20260101||ADT^A01|CTRL9|P|2.5\rPID|1||1\r");
  ASSERT_TRUE(m.ok());
  const std::string aa = BuildAck(&*m, Status::Ok(), "ACK1", 0);
  EXPECT_EQ(aa,
            "MSH|^~\\&|MEDHUB|MEDHUB|SND|FAC|19700101000000+0000||ACK^A01^ACK|ACK1|P|2.5\r"
            "MSA|AA|CTRL9\r");
  const std::string ae = BuildAck(&*m, Error(101, "PID-3: needed | here"), "ACK2", 0);
  auto parsed = Parse(ae);
  ASSERT_TRUE(parsed.ok());
  const Segment& msa = *parsed->Find("MSA");
  EXPECT_EQ(parsed->Get(msa, 1), "AE");
  EXPECT_EQ(parsed->Get(msa, 2), "CTRL9");
  EXPECT_EQ(parsed->Get(msa, 3), "PID-3: needed | here");
  const Segment& err = *parsed->Find("ERR");
  EXPECT_EQ(parsed->Get(err, 3, 0, 1), "101");
  EXPECT_EQ(parsed->Get(err, 3, 0, 3), "HL70357");
  EXPECT_EQ(parsed->Get(err, 4), "E");
  EXPECT_EQ(parsed->Get(err, 8), "PID-3: needed | here");
  const std::string unparsable = BuildAck(nullptr, Error(100, "no MSH"), "ACK3", 0);
  EXPECT_NE(unparsable.find("MSA|AR||no MSH\r"), std::string::npos) << unparsable;
}

TEST(Hl7Mapper, Hl7TimestampsBecomeFhirDateTimes) {
  EXPECT_EQ(*FhirDateTime("2026"), "2026");
  EXPECT_EQ(*FhirDateTime("202604"), "2026-04");
  EXPECT_EQ(*FhirDateTime("20260401"), "2026-04-01");
  EXPECT_EQ(*FhirDateTime("2026040108"), "2026-04-01T08:00:00Z");
  EXPECT_EQ(*FhirDateTime("20260401083015.25-0500"), "2026-04-01T08:30:15.25-05:00");
  EXPECT_EQ(*FhirDateTime("20260401083015", true), "2026-04-01");
  EXPECT_FALSE(FhirDateTime("2026-04-01").ok());
  EXPECT_FALSE(FhirDateTime("20261301").ok());
  EXPECT_FALSE(FhirDateTime("female").ok());
}

}  // namespace
}  // namespace medhub::ingest::hl7
