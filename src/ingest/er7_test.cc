#include "ingest/er7.h"

#include <gtest/gtest.h>

namespace medhub::ingest::hl7 {
namespace {

constexpr char kAdt[] =
    "MSH|^~\\&|APP|FAC|RECV|RFAC|20260401083000||ADT^A01^ADT_A01|CTRL1|P|2.5.1\r"
    "PID|1||98765^^^MRN^MR~555^^^SSN^SS||SMITH^ALICE^M||19750315|F\r"
    "ZZZ|custom|data\r";

TEST(Er7, SegmentsSplitOnCarriageReturnNewlineOrBoth) {
  for (const char* sep : {"\r", "\n", "\r\n"}) {
    std::string text = kAdt;
    std::string replaced;
    for (char c : text) replaced += c == '\r' ? std::string(sep) : std::string(1, c);
    auto m = Parse(replaced);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_EQ(m->segments().size(), 3u) << "separator " << int(sep[0]);
    EXPECT_EQ(m->Get(*m->Find("PID"), 5, 0, 2), "ALICE");
  }
}

TEST(Er7, MshFieldsAreNumberedAsTheStandardNumbersThem) {
  auto m = Parse(kAdt);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->Get(m->msh(), 1), "|");
  EXPECT_EQ(m->Get(m->msh(), 2), "^~\\&");
  EXPECT_EQ(m->sending_application(), "APP");
  EXPECT_EQ(m->sending_facility(), "FAC");
  EXPECT_EQ(m->type(), "ADT");
  EXPECT_EQ(m->trigger(), "A01");
  EXPECT_EQ(m->control_id(), "CTRL1");
  EXPECT_EQ(m->version(), "2.5.1");
}

TEST(Er7, RepetitionsComponentsAndSubcomponentsAreAddressable) {
  auto m = Parse(
      "MSH|^~\\&|A|F|||20260101||ADT^A01|1|P|2.5\r"
      "PID|1||DDS-1^^^DDS&1.3.6.1&ISO^PI~X2^^^OTHER||DOE^JOHN\r");
  ASSERT_TRUE(m.ok());
  const Segment& pid = *m->Find("PID");
  EXPECT_EQ(m->Repetitions(pid, 3), 2u);
  EXPECT_EQ(m->Get(pid, 3, 0, 1), "DDS-1");
  EXPECT_EQ(m->Get(pid, 3, 0, 4, 1), "DDS");
  EXPECT_EQ(m->Get(pid, 3, 0, 4, 2), "1.3.6.1");
  EXPECT_EQ(m->Get(pid, 3, 0, 4, 3), "ISO");
  EXPECT_EQ(m->Get(pid, 3, 1, 1), "X2");
  EXPECT_EQ(m->Get(pid, 3, 1, 4), "OTHER");
  EXPECT_EQ(m->Get(pid, 3, 2, 1), "");
  EXPECT_EQ(m->Get(pid, 40), "");
}

TEST(Er7, EscapeSequencesAreDecoded) {
  auto m = Parse(
      "MSH|^~\\&|A|F|||20260101||ORU^R01|1|P|2.5\r"
      "OBX|1|ST|N||a\\F\\b\\S\\c\\T\\d\\R\\e\\E\\f\\X41C3A9\\g\\.br\\h\\H\\i\\N\\\\Q\\\r");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->Get(*m->Find("OBX"), 5), "a|b^c&d~e\\fA\xC3\xA9g\nhi\\Q\\");
}

TEST(Er7, EscapeIsTheInverseOfUnescape) {
  auto m = Parse("MSH|^~\\&|A|F|||20260101||ORU^R01|1|P|2.5\r");
  ASSERT_TRUE(m.ok());
  const std::string nasty = "x|y^z&w~v\\u\nend";
  EXPECT_EQ(m->Unescape(Escape(nasty)), nasty);
}

TEST(Er7, CustomDelimitersFromMsh2AreHonoured) {
  auto m = Parse(
      "MSH#!@%*#SENDER#FAC#RECV#FAC#20260301120000##ADT!A01#MSG007#P#2.5\r"
      "PID#1##12345!!!MRN##DOE!JOHN!A@ROE!JANE##19800101#M\r");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type(), "ADT");
  EXPECT_EQ(m->trigger(), "A01");
  const Segment& pid = *m->Find("PID");
  EXPECT_EQ(m->Get(pid, 3, 0, 4), "MRN");
  EXPECT_EQ(m->Get(pid, 5, 1, 2), "JANE");
}

TEST(Er7, Latin1TextIsReadAsUtf8) {
  auto m = Parse("MSH|^~\\&|A|F|||20260101||ADT^A01|1|P|2.5\rPID|1||1||M\xFCller^J\xF6rg\r");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->Get(*m->Find("PID"), 5, 0, 1), "M\xC3\xBCller");
}

TEST(Er7, MalformedMessagesAreRejectedWithAnHl7ErrorCode) {
  auto no_msh = Parse("PID|1||12345\rPV1|1|I\r");
  EXPECT_EQ(ErrorCode(no_msh.status()), 100);
  auto bad_name = Parse("MSH|^~\\&|A|F|||20260101||ADT^A01|1|P|2.5\rPIDX|1\r");
  EXPECT_EQ(ErrorCode(bad_name.status()), 100);
  EXPECT_NE(ErrorText(bad_name.status()).find("segment 2"), std::string::npos);
  auto same_delims = Parse("MSH|^~\\\\&|A|F\r");
  EXPECT_EQ(ErrorCode(same_delims.status()), 102);
  auto two_msh = Parse("MSH|^~\\&|A|F|||1||ADT^A01|1|P|2.5\rMSH|^~\\&|A\r");
  EXPECT_EQ(ErrorCode(two_msh.status()), 100);
  EXPECT_EQ(ErrorCode(Parse("").status()), 100);
  EXPECT_EQ(ErrorCode(Parse("MSH").status()), 100);
}

TEST(Er7, SplitMessagesCutsAFileAtEachMshAndDropsComments) {
  auto parts =
      SplitMessages("/*\n * header\n */\nMSH|^~\\&|A\nPID|1\n\n// next\nMSH|^~\\&|B\r\nPID|2\r\n");
  ASSERT_EQ(parts.size(), 2u);
  EXPECT_EQ(parts[0], "MSH|^~\\&|A\rPID|1\r");
  EXPECT_EQ(parts[1], "MSH|^~\\&|B\rPID|2\r");
}

}  // namespace
}  // namespace medhub::ingest::hl7
