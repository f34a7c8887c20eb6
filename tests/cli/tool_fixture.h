// The `cascade` tool run as a process on the example project (examples/blog_shop), migrated and
// filled with 20 posts by the blog_shop application, on each backend.
#pragma once

#include <string>
#include <vector>

#include "support/backends.h"
#include "support/process.h"

namespace cascade::testing {

inline const std::string kToolPath = CASCADE_TOOL_PATH;
inline const std::string kAppPath = BLOG_SHOP_PATH;
inline const std::string kExampleSettings =
    std::string(CASCADE_SOURCE_DIR) + "/examples/blog_shop/cascade.toml";

class ToolOnExample : public BackendTest {
 protected:
  std::string url = scratch.url();
  void SetUp() override {
    ASSERT_EQ(run_process({kAppPath, "--database", url, "migrate"}).exit_code, 0);
    ASSERT_EQ(run_process({kAppPath, "--database", url, "generate", "--size", "20"}).exit_code, 0);
  }
  // `cascade --settings <example> --database <this test's database> ARGS...`
  ProcessResult tool(std::vector<std::string> args, const std::string& in = {}) {
    std::vector<std::string> all = {kToolPath, "--settings", kExampleSettings, "--database", url};
    all.insert(all.end(), args.begin(), args.end());
    return run_process(all, in);
  }
  std::int64_t rows(const std::string& table) {
    auto c = db::Connection::open(url);
    return count_rows(*c, table);
  }
};

}  // namespace cascade::testing
