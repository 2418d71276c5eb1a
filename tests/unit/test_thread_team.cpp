#include <gtest/gtest.h>

#include <chrono>
#include <stdexcept>
#include <thread>

#include "grokscope/core/thread_team.hpp"

using namespace grokscope;

TEST(ThreadTeam, SharesCoverTheRangeOnceAndDifferByAtMostOne) {
  for (int n : {0, 1, 5, 17, 200})
    for (int parts : {1, 2, 3, 7}) {
      int next = 0, smallest = n, largest = 0;
      for (int m = 0; m < parts; ++m) {
        const Range r = share_of(n, parts, m);
        EXPECT_EQ(r.begin, next) << n << " over " << parts;
        next = r.end;
        smallest = std::min(smallest, r.end - r.begin);
        largest = std::max(largest, r.end - r.begin);
      }
      EXPECT_EQ(next, n);
      EXPECT_LE(largest - smallest, 1);
    }
}

// Every member runs every job; after a barrier each member sees what all others wrote before it.
// Jobs follow back to back (helpers spinning) and after pauses longer than the spin (helpers asleep).
TEST(ThreadTeam, RunsEveryMemberAndBarriersOrderTheirWrites) {
  ThreadTeam team(3);
  ASSERT_EQ(team.size(), 3);
  std::vector<long> written(3, 0), seen(3, 0);
  for (int job = 1; job <= 400; ++job) {
    if (job % 100 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    team.run([&](int m) {
      written[static_cast<std::size_t>(m)] = job * 10 + m;
      team.barrier();
      long sum = 0;
      for (long w : written) sum += w;
      seen[static_cast<std::size_t>(m)] = sum;
      team.barrier();  // nobody writes the next job's values before all have read these
    });
    for (int m = 0; m < 3; ++m) ASSERT_EQ(seen[static_cast<std::size_t>(m)], 30L * job + 3) << "job " << job;
  }
}

TEST(ThreadTeam, RethrowsAMembersException) {
  ThreadTeam team(2);
  EXPECT_THROW(team.run([](int m) {
                 if (m == 1) throw std::runtime_error("member 1 failed");
               }),
               std::runtime_error);
  int ran = 0;
  team.run([&](int m) {
    if (m == 0) ran = 1;
  });
  EXPECT_EQ(ran, 1);  // the team still works afterwards
}

TEST(ThreadTeam, OneMemberRunsOnTheCaller) {
  ThreadTeam team(1);
  const auto caller = std::this_thread::get_id();
  std::thread::id where;
  team.run([&](int) {
    team.barrier();
    where = std::this_thread::get_id();
  });
  EXPECT_EQ(where, caller);
}
