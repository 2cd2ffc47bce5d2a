// Hdf5Storage under MPI (run with mpirun -n 2 or more): every rank stores and restores its own
// part of a distributed state, parts of different sizes (one of them empty), into ONE file. Checks
// the bitwise round trip, that all ranks wrote into the same file (rank 0 reads it back alone
// afterwards and finds every rank's part at its place), and that an error on one rank (a checksum
// mismatch, a part too large) throws on every rank. Then a distributed adjoint run through the
// Driver with a MultilevelRevolve schedule over RAM and an AsyncStorage(Hdf5Storage) disk level,
// whose steps communicate (MPI_Allreduce on the main thread while the I/O thread writes
// collectively), must give the store-all gradient bit for bit. Exit status 0 when all checks pass.
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <hdf5.h>

#include "cairn/async_storage.hpp"
#include "cairn/driver.hpp"
#include "cairn/hdf5_storage.hpp"
#include "cairn/memory_storage.hpp"
#include "cairn/multilevel.hpp"
#include "cairn/state_adapter.hpp"
#include "cairn/store_all.hpp"
#include "hdf5/crc32c.hpp"

namespace {

using Bytes = std::vector<unsigned char>;

int rank = 0;
int ranks = 1;
int failures = 0;

void check(bool ok, const std::string& what) {
  if (!ok) {
    ++failures;
    std::fprintf(stderr, "rank %d: FAILED: %s\n", rank, what.c_str());
  }
}

/// The size of rank r's part of x_step: different on every rank and at every step; rank 1's part
/// of x_2 is empty.
std::size_t part_size(std::int64_t step, int r) {
  if (step == 2 && r == 1) return 0;
  return static_cast<std::size_t>((r + 1) * 70000 + step * 1013 + r * 7);
}

Bytes part(std::int64_t step, int r) {
  std::mt19937_64 engine(static_cast<std::uint64_t>(step * 1000 + r));
  Bytes b(part_size(step, r));
  for (auto& x : b) x = static_cast<unsigned char>(engine() >> 56);
  return b;
}

Bytes restore(cairn::Storage& storage, std::int64_t slot, std::int64_t step) {
  Bytes b(part_size(step, rank), 0);
  storage.restore(slot, step, cairn::reader_for(b));
  return b;
}

/// Rank 0, with the storage destroyed: the file holds x_step in /slots/<slot> as every rank's part
/// one after the other, with per-rank sizes and checksums.
void check_file(const std::string& path, std::int64_t slot, std::int64_t step) {
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  check(file >= 0, "rank 0 opens the file alone");
  if (file < 0) return;
  const std::string name = "/slots/" + std::to_string(slot);
  const hid_t dataset = H5Dopen2(file, name.c_str(), H5P_DEFAULT);
  check(dataset >= 0, "dataset " + name + " exists");
  if (dataset >= 0) {
    std::vector<std::int64_t> steps(8, -2);
    std::vector<std::uint64_t> all_bytes(8 * static_cast<std::size_t>(ranks));
    std::vector<std::uint32_t> all_crcs(8 * static_cast<std::size_t>(ranks));
    const hid_t t_step = H5Dopen2(file, "/step", H5P_DEFAULT);
    const hid_t t_bytes = H5Dopen2(file, "/bytes", H5P_DEFAULT);
    const hid_t t_crc = H5Dopen2(file, "/crc32c", H5P_DEFAULT);
    check(
        t_step >= 0 && t_bytes >= 0 && t_crc >= 0 &&
            H5Dread(t_step, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, steps.data()) >= 0 &&
            H5Dread(t_bytes, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, all_bytes.data()) >=
                0 &&
            H5Dread(t_crc, H5T_NATIVE_UINT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, all_crcs.data()) >= 0,
        "tables /step, /bytes, /crc32c read");
    H5Dclose(t_step);
    H5Dclose(t_bytes);
    H5Dclose(t_crc);
    const std::int64_t stored_step = steps[static_cast<std::size_t>(slot)];
    const auto width = static_cast<std::size_t>(ranks);
    const auto row = static_cast<std::size_t>(slot) * width;
    const std::vector<std::uint64_t> bytes(
        all_bytes.begin() + static_cast<std::ptrdiff_t>(row),
        all_bytes.begin() + static_cast<std::ptrdiff_t>(row + width));
    const std::vector<std::uint32_t> crcs(
        all_crcs.begin() + static_cast<std::ptrdiff_t>(row),
        all_crcs.begin() + static_cast<std::ptrdiff_t>(row + width));
    check(stored_step == step, name + " records step " + std::to_string(step));
    const hid_t space = H5Dget_space(dataset);
    Bytes all(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)));
    H5Sclose(space);
    check(H5Dread(dataset, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, all.data()) >= 0,
          name + " read");
    std::size_t offset = 0;
    for (int r = 0; r < ranks; ++r) {
      const Bytes expected = part(step, r);
      check(bytes[static_cast<std::size_t>(r)] == expected.size(),
            name + " records the size of rank " + std::to_string(r) + "'s part");
      check(crcs[static_cast<std::size_t>(r)] ==
                cairn::detail::crc32c(expected.data(), expected.size()),
            name + " records the checksum of rank " + std::to_string(r) + "'s part");
      check(offset + expected.size() <= all.size() &&
                std::equal(expected.begin(), expected.end(),
                           all.begin() + static_cast<std::ptrdiff_t>(offset)),
            name + " holds rank " + std::to_string(r) + "'s part at offset " +
                std::to_string(offset));
      offset += expected.size();
    }
    H5Dclose(dataset);
  }
  H5Fclose(file);
}

/// Flips one byte of `pattern`'s first occurrence in the file (rank 0, all ranks' writes done).
void corrupt(const std::string& path, const Bytes& pattern) {
  std::ifstream in(path, std::ios::binary);
  Bytes file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  const auto at = std::search(file.begin(), file.end(), pattern.begin(), pattern.begin() + 64);
  check(at != file.end(), "the part to corrupt is in the file");
  if (at == file.end()) return;
  std::fstream out(path, std::ios::binary | std::ios::in | std::ios::out);
  out.seekp(std::distance(file.begin(), at) + 100);
  const char flipped = static_cast<char>(*(at + 100) ^ 0x01);
  out.write(&flipped, 1);
}

// A distributed toy model: rank r holds 1000 + 37 r values; a step couples them all through the
// global sum, x_i+1[k] = x[k] + 0.1 sin(x[k]) + 1e-3 sum(x), so every step calls MPI_Allreduce.
using Field = std::vector<double>;

double global_sum(const Field& x) {
  double local = 0;
  for (const double v : x) local += v;
  double total = 0;
  MPI_Allreduce(&local, &total, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  return total;
}

void model_step(Field& x) {
  const double s = global_sum(x);
  for (double& v : x) v = v + 0.1 * std::sin(v) + 1e-3 * s;
}

// lambda_i = (dx_i+1/dx_i)^T lambda_i+1, from x_i.
void model_adjoint(const Field& x, Field& lambda) {
  const double s = global_sum(lambda);
  for (std::size_t k = 0; k < x.size(); ++k) {
    lambda[k] = lambda[k] * (1 + 0.1 * std::cos(x[k])) + 1e-3 * s;
  }
}

Field gradient(cairn::Schedule& schedule, std::vector<cairn::Storage*> levels) {
  Field x0(1000 + 37 * static_cast<std::size_t>(rank));
  for (std::size_t k = 0; k < x0.size(); ++k)
    x0[k] = std::sin(0.01 * static_cast<double>(k + 1) + rank);
  cairn::Driver<Field> driver(
      schedule, std::move(levels), [](std::int64_t, Field& x) { model_step(x); },
      [](std::int64_t, const Field& x, Field& lambda) { model_adjoint(x, lambda); });
  return driver.run(x0, [](const Field& xT) { return xT; });  // J = |x_T|^2 / 2
}

void distributed_adjoint_run(bool asynchronous) {
  const std::int64_t steps = 60;
  const std::size_t bytes = (1000 + 37 * static_cast<std::size_t>(ranks)) * sizeof(double);
  cairn::StoreAll all(steps);
  cairn::MemoryStorage all_ram(all.slots(), bytes);
  const Field expected = gradient(all, {&all_ram});

  // 2 RAM + 4 disk slots, disk I/O priced like 2 steps: the plan makes 4 disk stores and 8 disk
  // restores (cairn schedule -T 60 -c 2 --disk-slots 4 --write-cost 2 --read-cost 2
  // --backward-cost 1 -f summary).
  cairn::MultilevelRevolve schedule(
      steps, {cairn::StorageLevel{2, 0, 0}, cairn::StorageLevel{4, 2, 2}}, cairn::StepCosts{1, 1});
  cairn::MemoryStorage ram(2, bytes);
  cairn::Hdf5Storage disk(MPI_COMM_WORLD, 4, bytes);
  Field got;
  if (asynchronous) {
    cairn::AsyncStorage async_disk(disk);
    got = gradient(schedule, {&ram, &async_disk});
  } else {
    got = gradient(schedule, {&ram, &disk});
  }
  check(got.size() == expected.size() &&
            std::memcmp(got.data(), expected.data(), got.size() * sizeof(double)) == 0,
        std::string("the multilevel gradient (") + (asynchronous ? "async" : "sync") +
            " HDF5 level) equals the store-all one bit for bit");
}

}  // namespace

int main(int argc, char** argv) {
  // The AsyncStorage run makes collective I/O calls on its worker thread while the main thread
  // calls MPI_Allreduce: that needs MPI_THREAD_MULTIPLE.
  int provided = MPI_THREAD_SINGLE;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ranks);
  check(ranks >= 2, "run with at least 2 ranks");
  std::string path;
  try {
    cairn::Hdf5StorageOptions options;
    options.keep_file = true;  // rank 0 reads it afterwards; the default temporary path
    cairn::Hdf5Storage storage(MPI_COMM_WORLD, 3, 200000, options);
    path = storage.path();
    // One file: every rank has the name rank 0 made.
    std::vector<char> name0(path.begin(), path.end());
    name0.resize(4096, '\0');
    MPI_Bcast(name0.data(), 4096, MPI_CHAR, 0, MPI_COMM_WORLD);
    check(path == std::string(name0.data()), "every rank has the same file: " + path);

    for (std::int64_t step = 0; step < 6; ++step) {
      const std::int64_t slot = step % 3;
      const Bytes x = part(step, rank);
      storage.store(slot, step, cairn::writer_for(x));
      check(storage.held_step(slot) == step, "slot holds the step stored");
      for (std::int64_t s = std::max<std::int64_t>(0, step - 2); s <= step; ++s) {
        check(restore(storage, s % 3, s) == part(s, rank),
              "bitwise round trip of x_" + std::to_string(s) + " after storing x_" +
                  std::to_string(step));
      }
    }
    check(storage.occupied() == 3, "three slots held");

    // A byte of rank 1's part changed in the file: every rank throws, rank 1 says why.
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) corrupt(path, part(5, 1));
    MPI_Barrier(MPI_COMM_WORLD);
    try {
      restore(storage, 2, 5);
      check(false, "a corrupted part was restored");
    } catch (const cairn::Hdf5StorageError& e) {
      const std::string what = e.what();
      check(what.find(path) != std::string::npos && what.find("slot 2") != std::string::npos,
            "the error names file and slot: " + what);
      check(what.find(rank == 1 ? "checksum mismatch" : "rank 1 failed") != std::string::npos,
            "the error says why: " + what);
    }
    storage.store(2, 5, cairn::writer_for(part(5, rank)));  // the slot can be used again
    check(restore(storage, 2, 5) == part(5, rank), "round trip after the corruption");

    // A part too large on one rank: invalid_argument on every rank, the slot keeps x_3.
    try {
      const Bytes big(rank == 1 ? 200001 : 10);
      storage.store(0, 9, cairn::writer_for(big));
      check(false, "a part too large was stored");
    } catch (const std::invalid_argument& e) {
      check(std::string(e.what()).find("rank 1") != std::string::npos, e.what());
    }
    check(storage.held_step(0) == 3, "the slot kept its checkpoint");
    check(restore(storage, 0, 3) == part(3, rank), "and restores it");
  } catch (const std::exception& e) {
    check(false, std::string("unexpected exception: ") + e.what());
  }
  if (rank == 0 && !path.empty()) {
    check_file(path, 0, 3);
    check_file(path, 1, 4);
    check_file(path, 2, 5);
    std::remove(path.c_str());
  }
  try {
    distributed_adjoint_run(false);
    if (provided >= MPI_THREAD_MULTIPLE) {
      distributed_adjoint_run(true);
    } else if (rank == 0) {
      std::printf(
          "SKIPPED the AsyncStorage run: this MPI gives thread level %d, not "
          "MPI_THREAD_MULTIPLE\n",
          provided);
    }
  } catch (const std::exception& e) {
    check(false, std::string("unexpected exception in the adjoint run: ") + e.what());
  }
  int total = 0;
  MPI_Allreduce(&failures, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
  if (rank == 0) {
    std::printf("%s: %d ranks, one file, %d failed checks\n", total == 0 ? "PASSED" : "FAILED",
                ranks, total);
  }
  MPI_Finalize();
  return total == 0 ? 0 : 1;
}
