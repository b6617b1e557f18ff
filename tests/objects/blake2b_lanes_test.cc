// Every BLAKE2b lane kernel this CPU can run gives libsodium's
// crypto_generichash (32 bytes, unkeyed) for every message: lengths on and
// around the 128-byte block, heads that straddle blocks, partial groups,
// and pages as the commit path hashes them.

#include "objects/blake2b_lanes.h"

#include <gtest/gtest.h>
#include <sodium.h>

#include <random>
#include <string>
#include <vector>

namespace larix::blake2b_lanes {
namespace {

std::string Random(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::string Reference(const std::string& head, const std::string& body) {
  std::string whole = head + body;
  unsigned char out[32];
  crypto_generichash(out, 32,
                     reinterpret_cast<const unsigned char*>(whole.data()),
                     whole.size(), nullptr, 0);
  return std::string(reinterpret_cast<char*>(out), 32);
}

const Kernel kAll[] = {Kernel::kPortable, Kernel::kAvx2, Kernel::kAvx512};

std::string Name(Kernel k) {
  return k == Kernel::kAvx512 ? "avx512" : k == Kernel::kAvx2 ? "avx2"
                                                              : "portable";
}

// Hashes n messages of the given lengths with `kernel` and compares each
// with libsodium.
void Check(Kernel kernel, std::mt19937_64& rng, size_t n, size_t head_len,
           size_t body_len) {
  std::vector<std::string> heads, bodies;
  std::vector<Message> messages;
  for (size_t i = 0; i < n; i++) {
    heads.push_back(Random(rng, head_len));
    bodies.push_back(Random(rng, body_len));
  }
  for (size_t i = 0; i < n; i++) {
    messages.push_back({reinterpret_cast<const uint8_t*>(heads[i].data()),
                        reinterpret_cast<const uint8_t*>(bodies[i].data())});
  }
  std::vector<uint8_t[32]> out(n);
  HashWith(kernel, messages.data(), n, head_len, body_len, out.data());
  for (size_t i = 0; i < n; i++) {
    ASSERT_EQ(std::string(reinterpret_cast<char*>(out[i]), 32),
              Reference(heads[i], bodies[i]))
        << Name(kernel) << ": message " << i << " of " << n << ", head "
        << head_len << " bytes, body " << body_len << " bytes";
  }
}

TEST(Blake2bLanesTest, EveryKernelAgreesWithLibsodium) {
  ASSERT_EQ(sodium_init() < 0, false);
  std::mt19937_64 rng(20261121);
  int kernels_run = 0;
  for (Kernel kernel : kAll) {
    if (!Supported(kernel)) continue;
    kernels_run++;
    for (size_t body_len :
         {0, 1, 7, 8, 100, 127, 128, 129, 255, 256, 257, 1000, 4096, 65536}) {
      for (size_t head_len : {0, 1, 5, 127, 128, 200}) {
        for (size_t n : {1, 3, 4, 5, 8, 9, 17}) {
          Check(kernel, rng, n, head_len, body_len);
        }
      }
    }
  }
  // The portable kernel runs everywhere; on x86-64 the others too, where
  // the CPU has them.
  EXPECT_GE(kernels_run, 1);
}

TEST(Blake2bLanesTest, BestIsSupportedAndAsWideAsTheCpuAllows) {
  EXPECT_TRUE(Supported(Best()));
  EXPECT_TRUE(Supported(Kernel::kPortable));
  for (Kernel k : kAll) {
    if (Supported(k)) {
      EXPECT_GE(Lanes(Best()), Lanes(k)) << Name(k);
    }
  }
  EXPECT_EQ(Lanes(Kernel::kPortable), 1u);
  EXPECT_EQ(Lanes(Kernel::kAvx2), 4u);
  EXPECT_EQ(Lanes(Kernel::kAvx512), 8u);
}

TEST(Blake2bLanesTest, MessagesMayShareMemoryAndRepeat) {
  // The same page in several lanes, and lanes whose bodies overlap.
  std::mt19937_64 rng(7);
  std::string head = Random(rng, 6), big = Random(rng, 4096 + 64);
  std::vector<Message> messages;
  std::vector<std::string> expect;
  for (size_t i = 0; i < 11; i++) {
    size_t off = (i % 3) * 32;
    messages.push_back({reinterpret_cast<const uint8_t*>(head.data()),
                        reinterpret_cast<const uint8_t*>(big.data() + off)});
    expect.push_back(Reference(head, big.substr(off, 4096)));
  }
  for (Kernel kernel : kAll) {
    if (!Supported(kernel)) continue;
    std::vector<uint8_t[32]> out(messages.size());
    HashWith(kernel, messages.data(), messages.size(), head.size(), 4096,
             out.data());
    for (size_t i = 0; i < messages.size(); i++) {
      EXPECT_EQ(std::string(reinterpret_cast<char*>(out[i]), 32), expect[i])
          << Name(kernel) << " lane " << i;
    }
  }
}

}  // namespace
}  // namespace larix::blake2b_lanes
