#include <asymfence/asymfence.hpp>

#include <gtest/gtest.h>

#include <cstring>

namespace {

TEST(Api, SelectsMembarrierHere) {
  asymfence::init_result r = asymfence::init();
  ASSERT_TRUE(r) << r.message;
  EXPECT_STREQ(asymfence::to_string(asymfence::active_strategy()),
               asymfence::to_string(r.selected));
}

}  // namespace
