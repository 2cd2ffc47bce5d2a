#include "cairn/graph_shapes.hpp"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace cairn {

namespace {

constexpr std::uint64_t float_bytes = 4;

double gflop(double flop) {
  return flop * 1e-9;
}

// A node of `channels` x `pixels` floats whose tape is `tape_tensors` tensors of the given
// channels at the same pixels (plus `tape_extra_bytes`).
GraphNode block(std::string name, double forward_flop, std::uint64_t elements,
                std::uint64_t tape_elements, int batch) {
  GraphNode node;
  node.name = std::move(name);
  node.forward_cost = gflop(forward_flop) * batch;
  node.backward_cost = 2 * node.forward_cost;
  node.output_bytes = elements * float_bytes * static_cast<std::uint64_t>(batch);
  node.tape_bytes = tape_elements * float_bytes * static_cast<std::uint64_t>(batch);
  return node;
}

double conv_flop(double pixels, double in, double out, double kernel) {
  return 2 * pixels * in * out * kernel * kernel;
}

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument(what);
}

}  // namespace

Graph unet(const UnetShape& s) {
  require(s.levels >= 1 && s.levels <= 12,
          "unet: levels = " + std::to_string(s.levels) + " is not allowed; it must be in [1, 12]");
  require(s.base_channels >= 1 && s.in_channels >= 1 && s.classes >= 1 && s.batch >= 1,
          "unet: base_channels, in_channels, classes and batch must be >= 1");
  require(s.image_size >= (1 << s.levels) && s.image_size % (1 << s.levels) == 0,
          "unet: image_size = " + std::to_string(s.image_size) +
              " must be a positive multiple of 2^levels = " + std::to_string(1 << s.levels));
  const auto pixels = [&](int l) {
    const std::uint64_t side = static_cast<std::uint64_t>(s.image_size >> l);
    return side * side;
  };
  const auto channels = [&](int l) {
    return static_cast<std::uint64_t>(s.base_channels) << static_cast<unsigned>(l);
  };
  const auto conv_block = [&](std::string name, int l, double in) {
    const double p = static_cast<double>(pixels(l)), c = static_cast<double>(channels(l));
    const std::uint64_t out = pixels(l) * channels(l);
    return block(std::move(name), conv_flop(p, in, c, 3) + conv_flop(p, c, c, 3), out, 4 * out,
                 s.batch);
  };
  Graph g;
  std::vector<std::int64_t> enc(static_cast<std::size_t>(s.levels));
  std::int64_t previous = -1;
  for (int l = 0; l < s.levels; ++l) {
    const double in = l == 0 ? s.in_channels : static_cast<double>(channels(l - 1));
    const std::vector<std::int64_t> inputs =
        previous < 0 ? std::vector<std::int64_t>{} : std::vector<std::int64_t>{previous};
    enc[static_cast<std::size_t>(l)] = g.add(conv_block("enc_" + std::to_string(l), l, in), inputs);
    const std::uint64_t pooled = pixels(l + 1) * channels(l);
    previous =
        g.add(block("pool_" + std::to_string(l), static_cast<double>(pixels(l) * channels(l)),
                    pooled, 2 * pooled, s.batch),
              {enc[static_cast<std::size_t>(l)]});
  }
  previous = g.add(conv_block("bottleneck", s.levels, static_cast<double>(channels(s.levels - 1))),
                   {previous});
  for (int l = s.levels - 1; l >= 0; --l) {
    const std::uint64_t out = pixels(l) * channels(l);
    const double up_flop =
        conv_flop(static_cast<double>(pixels(l + 1)), static_cast<double>(channels(l + 1)),
                  static_cast<double>(channels(l)), 2);
    const std::int64_t up =
        g.add(block("up_" + std::to_string(l), up_flop, out, 0, s.batch), {previous});
    GraphNode dec = conv_block("dec_" + std::to_string(l), l, 2 * static_cast<double>(channels(l)));
    dec.tape_bytes += 2 * dec.output_bytes;  // the concatenation of up_l and enc_l
    previous = g.add(dec, {up, enc[static_cast<std::size_t>(l)]});
  }
  const std::uint64_t head_out = pixels(0) * static_cast<std::uint64_t>(s.classes);
  g.add(block("head",
              conv_flop(static_cast<double>(pixels(0)), static_cast<double>(channels(0)), s.classes,
                        1),
              head_out, 0, s.batch),
        {previous});
  return g;
}

Graph densenet(const DensenetShape& s) {
  require(!s.block_layers.empty(), "densenet: block_layers must not be empty");
  for (const int layers : s.block_layers) {
    require(layers >= 1, "densenet: every block needs >= 1 layer");
  }
  require(
      s.growth >= 1 && s.bottleneck >= 1 && s.stem_channels >= 1 && s.classes >= 1 && s.batch >= 1,
      "densenet: growth, bottleneck, stem_channels, classes and batch must be >= 1");
  const std::size_t blocks = s.block_layers.size();
  require(s.image_size >= 4 && s.image_size % (4 << (blocks - 1)) == 0,
          "densenet: image_size = " + std::to_string(s.image_size) + " must be a multiple of " +
              std::to_string(4 << (blocks - 1)) + " (4 for the stem, 2 per transition)");
  Graph g;
  std::uint64_t side = static_cast<std::uint64_t>(s.image_size);
  const std::uint64_t stem_c = static_cast<std::uint64_t>(s.stem_channels);
  // The stem: conv 7x7 / 2 (its output and ReLU saved, at side / 2) and max pooling / 2 (indices).
  const std::uint64_t half = (side / 2) * (side / 2);
  side /= 4;
  std::uint64_t pixels = side * side;
  std::int64_t input =
      g.add(block("stem", conv_flop(static_cast<double>(half), 3, static_cast<double>(stem_c), 7),
                  stem_c * pixels, 2 * stem_c * half + 2 * stem_c * pixels, s.batch));
  std::uint64_t in_c = stem_c;
  const std::uint64_t k = static_cast<std::uint64_t>(s.growth);
  const std::uint64_t mid = static_cast<std::uint64_t>(s.bottleneck) * k;
  for (std::size_t b = 0; b < blocks; ++b) {
    std::vector<std::int64_t> reads = {input};
    const double p = static_cast<double>(pixels);
    for (int j = 0; j < s.block_layers[b]; ++j) {
      const std::uint64_t c = in_c + static_cast<std::uint64_t>(j) * k;
      const double flop = conv_flop(p, static_cast<double>(c), static_cast<double>(mid), 1) +
                          conv_flop(p, static_cast<double>(mid), static_cast<double>(k), 3);
      reads.push_back(g.add(block("dense" + std::to_string(b + 1) + "_" + std::to_string(j + 1),
                                  flop, k * pixels, (2 * c + 2 * mid) * pixels, s.batch),
                            reads));
    }
    const std::uint64_t c = in_c + static_cast<std::uint64_t>(s.block_layers[b]) * k;
    if (b + 1 < blocks) {
      const std::uint64_t out_c = c / 2;
      const std::uint64_t out_pixels = (side / 2) * (side / 2);
      const double flop = conv_flop(p, static_cast<double>(c), static_cast<double>(out_c), 1) +
                          static_cast<double>(out_c * pixels);
      input = g.add(block("transition" + std::to_string(b + 1), flop, out_c * out_pixels,
                          (2 * c + out_c) * pixels, s.batch),
                    reads);
      side /= 2;
      pixels = out_pixels;
      in_c = out_c;
    } else {
      const std::uint64_t classes = static_cast<std::uint64_t>(s.classes);
      const double flop =
          2 * static_cast<double>(c * classes) + 2 * static_cast<double>(c * pixels);
      g.add(block("head", flop, classes, 2 * c * pixels + c, s.batch), reads);
    }
  }
  return g;
}

}  // namespace cairn
