// Graphs of two well-known networks with skip connections, at the granularity a planner sees
// (one node per block of layers), for tests, benchmarks and the documentation's figures.
//
// Sizes are exact bytes of float tensors; costs are forward GFLOP per batch (convolutions count
// 2 * H * W * c_in * c_out * k^2, pooling one operation per element) and every backward costs
// twice its forward. Tapes list what autograd saves inside the block beyond its inputs (see each
// builder), so that tape / output ratios are those of real blocks.
#pragma once

#include <cstdint>
#include <vector>

#include "cairn/graph.hpp"

namespace cairn {

struct UnetShape {
  /// Pooling steps (the original U-Net has 4): the graph has 4 * levels + 2 nodes.
  int levels = 4;
  int base_channels = 64;  ///< channels at full resolution; they double at every level
  int image_size = 256;    ///< height = width, divisible by 2^levels
  int in_channels = 3;
  int classes = 2;
  int batch = 1;
};

/// U-Net: enc_0, pool_0, enc_1, ..., pool_{L-1}, bottleneck, then for l = L-1 .. 0 up_l (a
/// transposed convolution of the previous decoder output, or of the bottleneck) and dec_l (reads
/// up_l and the skip enc_l), and a 1x1 head. Level l has (image_size / 2^l)^2 pixels and
/// base_channels * 2^l channels, so an output shrinks by 2 per level (4 in space, 1/2 in
/// channels). Tapes: a conv block (conv-BN-ReLU twice) saves 4 tensors of its output's size; a
/// decoder block also the concatenation of its two inputs (2 more); max pooling its indices
/// (int64, 2 outputs' bytes); up and head nothing beyond their input.
Graph unet(const UnetShape& shape = {});

struct DensenetShape {
  std::vector<int> block_layers = {6, 12, 24, 16};  ///< DenseNet-121
  int growth = 32;                                  ///< k: channels each dense layer adds
  int bottleneck = 4;                               ///< the 1x1 convolution has bottleneck * k
  int stem_channels = 64;
  int image_size = 224;
  int classes = 1000;
  int batch = 1;
};

/// DenseNet: a stem (7x7 convolution, stride 2, and max pooling: image_size / 4 pixels), dense
/// blocks whose layer j reads the block's input and the block's layers 0..j-1 (the
/// concatenation), a transition after each block but the last (reads the block's input and all
/// its layers; 1x1 convolution to half the channels, 2x2 average pooling) and a head (reads the
/// last block's input and layers; global pooling and the classifier). DenseNet-121's defaults
/// give 63 nodes. A dense layer (BN-ReLU-conv1x1-BN-ReLU-conv3x3) saves the concatenation and
/// its ReLU (2 * c_in channels) and the bottleneck's conv and ReLU (2 * bottleneck * k).
Graph densenet(const DensenetShape& shape = {});

}  // namespace cairn
