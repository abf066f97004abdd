// JwtCodec: the RFC 8037 vectors, a round trip, and every malformed or forged envelope.
#include "security/jwt.h"

#include <gtest/gtest.h>

#include <string>

#include "core/json.h"
#include "security/base64.h"

namespace medhub::security {
namespace {

// RFC 8037 Appendix A.1 (the RFC 8032 TEST 1 key).
constexpr char kRfcD[] = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
constexpr char kRfcX[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";

PrivateKey RfcKey() { return *PrivateKey::FromRaw(*Base64UrlDecode(kRfcD)); }

Claims SampleClaims() {
  Claims c;
  c.issuer = "medhub";
  c.subject = "alice";
  c.audience = "medhub";
  c.issued_at = 1'767'225'600;
  c.not_before = c.issued_at;
  c.expires_at = c.issued_at + 900;
  c.token_id = "jti-1";
  c.role = Role::kPractitioner;
  c.organization = "org-1";
  c.session = "sid-1";
  c.scope = "user/*.read";
  return c;
}

// A token with exactly this header and payload text, signed with `key`.
std::string SignRaw(const PrivateKey& key, std::string_view header, std::string_view payload) {
  const std::string input = Base64UrlEncode(header) + "." + Base64UrlEncode(payload);
  return input + "." + Base64UrlEncode(SignatureBytes(*key.Sign(input)));
}

std::string Header(const JwtCodec& codec) {
  return R"({"alg":"EdDSA","typ":"JWT","kid":")" + codec.key_id() + R"("})";
}

std::string Payload(const Claims& c) {
  // The codec's own encoding of `c`, taken from a token it signed.
  JwtCodec other(RfcKey());
  const std::string token = *other.Encode(c);
  const size_t a = token.find('.'), b = token.rfind('.');
  return *Base64UrlDecode(token.substr(a + 1, b - a - 1));
}

// Asserts that decoding fails as Unauthenticated with `reason` in the message.
void ExpectRejected(const JwtCodec& codec, const std::string& token, std::string_view reason) {
  auto r = codec.Decode(token);
  ASSERT_FALSE(r.ok()) << "accepted: " << token;
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(r.status().message().find(reason), std::string::npos) << r.status().message();
}

TEST(JwtTest, TheKeyIdIsTheRfc8037Thumbprint) {
  const PrivateKey key = RfcKey();
  EXPECT_EQ(Base64UrlEncode(key.public_key().Raw()), kRfcX);
  EXPECT_EQ(KeyId(key.public_key()), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

TEST(JwtTest, SigningReproducesTheRfc8037ExampleSignature) {
  const std::string input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
  auto sig = RfcKey().Sign(input);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(
      Base64UrlEncode(SignatureBytes(*sig)),
      "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg");
}

TEST(JwtTest, EncodedClaimsDecodeToTheSameClaims) {
  JwtCodec codec(RfcKey());
  const Claims c = SampleClaims();
  auto token = codec.Encode(c);
  ASSERT_TRUE(token.ok());
  auto back = codec.Decode(*token);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, c);
  // The header is exactly {"alg":"EdDSA","typ":"JWT","kid":...}.
  EXPECT_EQ(*Base64UrlDecode(token->substr(0, token->find('.'))), Header(codec));
}

TEST(JwtTest, TheAlgorithmMustBeEdDsaSoNoneAndHmacAreRejected) {
  JwtCodec codec(RfcKey());
  const std::string payload = Payload(SampleClaims());
  const std::string kid = codec.key_id();
  // "none" with an empty signature, and "none" with a signature attached.
  const std::string none_header = R"({"alg":"none","typ":"JWT","kid":")" + kid + R"("})";
  ExpectRejected(codec, Base64UrlEncode(none_header) + "." + Base64UrlEncode(payload) + ".",
                 "a part is empty");
  ExpectRejected(codec, SignRaw(RfcKey(), none_header, payload), "algorithm 'none'");
  ExpectRejected(codec, SignRaw(RfcKey(), R"({"alg":"HS256","kid":")" + kid + R"("})", payload),
                 "algorithm 'HS256'");
  ExpectRejected(codec, SignRaw(RfcKey(), R"({"alg":"EDDSA","kid":")" + kid + R"("})", payload),
                 "not accepted");
  ExpectRejected(codec, SignRaw(RfcKey(), R"({"kid":")" + kid + R"("})", payload), "no alg");
}

TEST(JwtTest, AForgedSignatureIsRejected) {
  JwtCodec codec(RfcKey());
  const PrivateKey attacker = *PrivateKey::Generate();
  // The attacker copies our header (and kid) but signs with their own key.
  ExpectRejected(codec, SignRaw(attacker, Header(codec), Payload(SampleClaims())),
                 "signature does not verify");
}

TEST(JwtTest, ATamperedPayloadIsRejected) {
  JwtCodec codec(RfcKey());
  const std::string token = *codec.Encode(SampleClaims());
  Claims admin = SampleClaims();
  admin.role = Role::kAdmin;
  const size_t a = token.find('.'), b = token.rfind('.');
  const std::string forged =
      token.substr(0, a + 1) + Base64UrlEncode(Payload(admin)) + token.substr(b);
  ExpectRejected(codec, forged, "signature does not verify");
  // Flipping one signature character is caught too.
  std::string flipped = token;
  flipped.back() = flipped.back() == 'A' ? 'Q' : 'A';
  EXPECT_FALSE(codec.Decode(flipped).ok());
}

TEST(JwtTest, ATokenFromAnotherKeyIdIsRejected) {
  JwtCodec codec(RfcKey());
  JwtCodec other(*PrivateKey::Generate());
  ExpectRejected(codec, *other.Encode(SampleClaims()), "unknown key id");
}

TEST(JwtTest, MalformedEnvelopesAreRejectedWithTheirReason) {
  JwtCodec codec(RfcKey());
  const std::string token = *codec.Encode(SampleClaims());
  const std::string h = token.substr(0, token.find('.'));
  ExpectRejected(codec, "", "not three");
  ExpectRejected(codec, "abc", "not three");
  ExpectRejected(codec, "a.b", "not three");
  ExpectRejected(codec, token + ".x", "not three");
  ExpectRejected(codec, "=" + token, "header is not base64url");
  ExpectRejected(codec, h + "==" + token.substr(h.size()), "header is not base64url");
  ExpectRejected(codec, token + "=", "signature is not base64url");
  ExpectRejected(codec, token.substr(0, token.rfind('.') + 1) + "AAAA", "not 64 bytes");
  ExpectRejected(codec, Base64UrlEncode("not json") + token.substr(h.size()), "header is not JSON");
  ExpectRejected(codec, Base64UrlEncode("[1]") + token.substr(h.size()), "not a JSON object");
}

TEST(JwtTest, OversizedTokensAreRejectedBeforeAnyParsing) {
  JwtCodec codec(RfcKey());
  Claims c = SampleClaims();
  c.scope = std::string(kMaxTokenBytes, 'x');
  ExpectRejected(codec, *codec.Encode(c), "longer than 8192 bytes");
}

TEST(JwtTest, DuplicateMembersInHeaderOrPayloadAreRejected) {
  JwtCodec codec(RfcKey());
  const std::string kid = codec.key_id();
  const std::string dup_header = R"({"alg":"EdDSA","alg":"none","kid":")" + kid + R"("})";
  ExpectRejected(codec, SignRaw(RfcKey(), dup_header, Payload(SampleClaims())),
                 "header is not JSON");
  std::string payload = Payload(SampleClaims());
  payload.insert(1, R"("role":"admin",)");  // a second "role", signed by the real key
  ExpectRejected(codec, SignRaw(RfcKey(), Header(codec), payload), "payload is not JSON");
}

TEST(JwtTest, UnknownHeaderMembersSuchAsCritOrJkuAreRejected) {
  JwtCodec codec(RfcKey());
  const std::string kid = codec.key_id();
  for (const char* member : {"crit", "jku", "jwk", "x5u", "b64"}) {
    const std::string header = R"({"alg":"EdDSA","kid":")" + kid + R"(",")" + member + R"(":"x"})";
    ExpectRejected(codec, SignRaw(RfcKey(), header, Payload(SampleClaims())), "is not accepted");
  }
  ExpectRejected(codec,
                 SignRaw(RfcKey(), R"({"alg":"EdDSA","typ":"JOSE","kid":")" + kid + R"("})",
                         Payload(SampleClaims())),
                 "typ is not JWT");
}

TEST(JwtTest, MissingOrMistypedClaimsAreRejected) {
  JwtCodec codec(RfcKey());
  const std::string header = Header(codec);
  const std::string base = Payload(SampleClaims());
  auto with = [&](std::string_view name, std::string_view json_value) {
    auto v = *json::Parse(base);
    if (json_value.empty()) {
      v.erase(name);
    } else {
      v.set(name, *json::Parse(json_value));
    }
    return SignRaw(RfcKey(), header, json::Serialize(v));
  };
  ExpectRejected(codec, with("exp", ""), "claim 'exp' is missing");
  ExpectRejected(codec, with("exp", R"("1767226500")"), "claim 'exp' is not a NumericDate");
  ExpectRejected(codec, with("exp", "1.5"), "claim 'exp' is not a NumericDate");
  ExpectRejected(codec, with("sub", ""), "claim 'sub' is missing");
  ExpectRejected(codec, with("sub", R"("")"), "claim 'sub' is not a non-empty string");
  ExpectRejected(codec, with("aud", R"(["medhub"])"), "claim 'aud'");
  ExpectRejected(codec, with("role", R"("root")"), "claim 'role'");
  ExpectRejected(codec, with("scope", ""), "claim 'scope' is missing");
  ExpectRejected(codec, with("patient", "7"), "claim 'patient'");
  ExpectRejected(codec, SignRaw(RfcKey(), header, "[]"), "payload is not a JSON object");
}

}  // namespace
}  // namespace medhub::security
