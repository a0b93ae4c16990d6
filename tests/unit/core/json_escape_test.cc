#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "core/json_escape.h"

namespace tether::core {
namespace {

TEST(HtmlEscapeTest, EscapesEveryCharacterThatEndsTextOrAnAttribute) {
  EXPECT_EQ(htmlEscape(R"(<script>alert("x" + 'y')</script> & more)"),
            "&lt;script&gt;alert(&quot;x&quot; + &#39;y&#39;)&lt;/script&gt; &amp; more");
  EXPECT_EQ(htmlEscape("plain mcp/demo"), "plain mcp/demo");
  EXPECT_EQ(htmlEscape(""), "");
}

TEST(JsonStringTest, QuotesEscapesAndStaysValidJson) {
  const std::string raw = "a\"b\\c\n\x01\xff";
  const std::string quoted = jsonString(raw);
  boost::system::error_code ec;
  auto v = boost::json::parse(quoted, ec);
  ASSERT_FALSE(ec) << quoted;
  EXPECT_EQ(std::string(v.as_string()).substr(0, 6), "a\"b\\c\n");
}

}  // namespace
}  // namespace tether::core
