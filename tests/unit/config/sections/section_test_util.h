#pragma once
// Runs one section parser on a YAML snippet: the snippet is the section's value, read as
// if it were written under `path` at line 1 of "t.yaml".

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <string>
#include <string_view>

#include "config/reader.h"
#include "config/sections/sections.h"
#include "unit/config/config_test_util.h"

namespace tether::config::sections {

class SectionTest : public ::testing::Test {
 protected:
  /// The entry for `yaml` under `path`; stays valid for the test.
  Entry entry(std::string_view yaml, std::string path) {
    node_ = YAML::Load(std::string(yaml));
    return Entry{node_, 1, std::move(path)};
  }
  /// Every error so far, one per line ("" when none).
  std::string errors() const { return reader_.errorReport(); }
  size_t errorCount() const { return reader_.errorCount(); }

  EnvLookup env_ = testing::defaultEnv();
  Reader reader_{"t.yaml", env_};

 private:
  YAML::Node node_;
};

}  // namespace tether::config::sections
