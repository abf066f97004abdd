#include "cli/flags.h"

#include <gtest/gtest.h>

namespace medhub::cli {
namespace {

TEST(FlagsTest, ValuesSwitchesAndPositionalsAreSeparated) {
  auto f = Flags::Parse({"--data", "/d", "--port=0", "a.json", "--verbose", "b"}, {"data", "port"},
                        {"verbose"});
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->Get("data"), "/d");
  EXPECT_EQ(*f->GetUint("port", 8080), 0u);
  EXPECT_TRUE(f->Has("verbose"));
  EXPECT_EQ(f->positional(), (std::vector<std::string>{"a.json", "b"}));
  EXPECT_EQ(*f->GetUint("threads", 7), 7u);
}

TEST(FlagsTest, UnknownFlagsMissingValuesAndBadNumbersAreErrors) {
  EXPECT_FALSE(Flags::Parse({"--nope", "1"}, {"data"}).ok());
  EXPECT_FALSE(Flags::Parse({"--data"}, {"data"}).ok());
  EXPECT_FALSE(Flags::Parse({"--verbose=1"}, {}, {"verbose"}).ok());
  auto f = Flags::Parse({"--port", "80x"}, {"port"});
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->GetUint("port", 1).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace medhub::cli
