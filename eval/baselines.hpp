// The baselines of the paper's Fig. 3 in one include: general-purpose compressors,
// the grid storage they compress, and 1-D k-means.
#pragma once
#include "eval/compressors.hpp"
#include "eval/grid_storage.hpp"
#include "eval/kmeans.hpp"
