#pragma once
// Training-loss spikes (metrics.md §5): the cheap between-checkpoint half of instability detection
// (the other half, train accuracy falling below 0.99 after it reached 1.0, is checked at
// checkpoints). Torch-free and tiny so it is tested on synthetic loss sequences.
#include <cmath>

namespace grokscope {

struct SpikeDetector {
  double running_min = INFINITY;  // lowest batch loss so far
  double first = NAN;             // the first batch's loss
  bool in_spike = false;          // inside a spike already reported

  // Feeds one batch loss; true when it starts a new spike: ×100 above the running minimum and
  // above 1% of the first loss. The floor keeps the jitter of a converged run (1e-7 -> 1e-5) from
  // counting: a real spike (a slingshot, the seed's jumps) climbs back towards the initial loss.
  // A spike is reported once, however many batches it lasts.
  bool observe(double loss) {
    if (std::isnan(first)) first = loss;
    const bool spiking = running_min > 0 && loss > 100.0 * running_min && loss > 0.01 * first;
    const bool starts = spiking && !in_spike;
    in_spike = spiking;
    if (loss < running_min) running_min = loss;
    return starts;
  }
};

}  // namespace grokscope
