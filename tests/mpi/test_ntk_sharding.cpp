#include <gtest/gtest.h>

#include "grokscope/dist/mpi.hpp"
#include "grokscope/model/mlp.hpp"
#include "grokscope/ntk/ntk.hpp"

using namespace grokscope;

// Sharded over the world (1 or 2 ranks) vs computed whole on this rank: bit for bit.
TEST(MPI, NtkIsIdenticalWhateverTheRanks) {
  MpiCommunicator world(MPI_COMM_WORLD);
  MlpOptions o;
  o.inputs = 10;
  o.widths = {8, 6};
  o.outputs = 4;
  o.init_scale = 2.0;
  torch::manual_seed(9);
  MlpImpl m(o);
  m.to(torch::kFloat64);
  torch::manual_seed(4);
  const torch::Tensor x = torch::randn({60, 10}, torch::kFloat64);
  const torch::Tensor alone = structured_ntk(m, x, nullptr, /*block_samples=*/7);  // 9 uneven blocks
  const torch::Tensor sharded = structured_ntk(m, x, &world, 7);
  EXPECT_TRUE(torch::equal(alone, sharded)) << (alone - sharded).abs().max().item<double>();
  const torch::Tensor xs = x.narrow(0, 0, 20);
  EXPECT_TRUE(torch::equal(generic_ntk(m, xs, nullptr, 3), generic_ntk(m, xs, &world, 3)));
}
