#include <catch2/catch.hpp>

#include "cairn/action_io.hpp"

using cairn::Action;

TEST_CASE("actions print in the stable JSON-lines format", "[action_io]") {
  REQUIRE(cairn::to_json(Action::make_advance(0, 6)) == R"({"op":"advance","from":0,"to":6})");
  REQUIRE(cairn::to_json(Action::make_store(0, 0)) ==
          R"({"op":"store","slot":0,"step":0,"level":"ram"})");
  REQUIRE(cairn::to_json(Action::make_restore(3, 41, 1)) ==
          R"({"op":"restore","slot":3,"step":41,"level":"disk"})");
  REQUIRE(cairn::to_json(Action::make_reverse(14)) == R"({"op":"reverse","step":14})");
  REQUIRE(cairn::to_json(Action::make_free(2, 1)) == R"({"op":"free","slot":2,"level":"disk"})");
  REQUIRE(cairn::to_json(Action::make_end()) == R"({"op":"end"})");
  REQUIRE(cairn::to_json(Action::make_advance(0, 9223372036854775807LL)) ==
          R"({"op":"advance","from":0,"to":9223372036854775807})");
  REQUIRE(cairn::to_json(Action::make_store(1, 2, 5)) ==
          R"({"op":"store","slot":1,"step":2,"level":"level5"})");
  REQUIRE(cairn::to_json(Action::make_store(1, 2, 0), {"dev\"ice"}) ==
          R"({"op":"store","slot":1,"step":2,"level":"dev\"ice"})");
}

TEST_CASE("actions print in a human-readable form", "[action_io]") {
  REQUIRE(cairn::to_text(Action::make_advance(0, 6)) == "advance  x_0 -> x_6  (6 steps)");
  REQUIRE(cairn::to_text(Action::make_advance(4, 5)) == "advance  x_4 -> x_5  (1 step)");
  REQUIRE(cairn::to_text(Action::make_store(1, 6)) == "store    x_6 -> slot 1 (ram)");
  REQUIRE(cairn::to_text(Action::make_restore(1, 6)) == "restore  slot 1 (ram) -> x_6");
  REQUIRE(cairn::to_text(Action::make_reverse(14)) ==
          "reverse  step 14  (adjoint: lambda_15 -> lambda_14)");
  REQUIRE(cairn::to_text(Action::make_free(2, 1)) == "free     slot 2 (disk)");
  REQUIRE(cairn::to_text(Action::make_end()) == "end");
  REQUIRE(std::string(cairn::to_string(cairn::ActionKind::restore)) == "restore");
}
