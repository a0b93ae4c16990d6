#include "core/form.h"

#include <gtest/gtest.h>

#include <string>

namespace tether::core {
namespace {

TEST(FormTest, ParsesDecodesAndIsBounded) {
  auto pairs = parseForm("a=1&b=two+words&&c=%2B&d&bad=%zz");
  ASSERT_EQ(pairs.size(), 5u);
  EXPECT_EQ(findFormValue(pairs, "b"), "two words");
  EXPECT_EQ(findFormValue(pairs, "c"), "+");
  EXPECT_EQ(findFormValue(pairs, "d"), "");
  EXPECT_EQ(findFormValue(pairs, "bad"), "%zz");  // malformed escape kept raw
  EXPECT_FALSE(findFormValue(pairs, "missing").has_value());
  std::string many;
  for (int i = 0; i < 1000; ++i) {
    many += 'k';
    many += std::to_string(i);  // appended piecewise: g++ 12 -O3 misreports "k" + s (-Wrestrict)
    many += "=v&";
  }
  EXPECT_EQ(parseForm(many).size(), kMaxFormPairs);
  EXPECT_EQ(encodeForm({{"a b", "+/="}, {"c", ""}}), "a+b=%2B%2F%3D&c=");
}

}  // namespace
}  // namespace tether::core
