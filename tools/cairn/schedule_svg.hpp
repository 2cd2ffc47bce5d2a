// `cairn plot`: a schedule drawn as an SVG picture, in the style of the Revolve papers' figures.
#pragma once

#include <cstdint>
#include <string>

#include "cairn/schedule.hpp"

/// Step index across, actions down (time runs downwards): advances are blue lines from x_from to
/// x_to, stores green squares, restores orange circles (filled on level 0, hollow on level 1 and
/// up), reverses red arrows from x_{i+1} back to x_i. Returns the whole SVG document. Throws
/// std::invalid_argument when the stream has more than `max_actions` actions (the picture would
/// be unreadable; the message says how many).
std::string schedule_svg(cairn::Schedule& schedule, std::int64_t steps, const std::string& title,
                         std::int64_t max_actions = 20000);
