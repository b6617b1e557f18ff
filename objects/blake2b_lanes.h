// BLAKE2b-256 of several messages at once, one message per SIMD lane.
//
// A commit hashes every page it writes, and pages are the same length, so
// instead of running BLAKE2b's compression function once per page (it is
// a serial chain of 64-bit adds, xors and rotations: about 3 cycles a
// byte), the kernels here run it for 8 pages side by side in the eight
// 64-bit lanes of an AVX-512 register (4 in AVX2), each lane doing
// exactly the computation of RFC 7693 for its own message.  The result is
// bit for bit the unkeyed 32-byte BLAKE2b of libsodium's
// crypto_generichash, the object id of docs/format.md; nothing about the
// format changes (tests/objects/blake2b_lanes_test.cc compares every
// kernel with libsodium).
//
// A message is a head followed by a body (an object's header and its
// canonical bytes); all messages of one call have heads of one length and
// bodies of one length.  Which kernel runs is chosen once, by what the
// CPU supports: AVX-512F, else AVX2, else libsodium one message at a time.

#ifndef LARIX_OBJECTS_BLAKE2B_LANES_H_
#define LARIX_OBJECTS_BLAKE2B_LANES_H_

#include <cstddef>
#include <cstdint>

namespace larix::blake2b_lanes {

enum class Kernel { kPortable, kAvx2, kAvx512 };

// One message: head_len bytes at `head`, then body_len bytes at `body`.
struct Message {
  const uint8_t* head;
  const uint8_t* body;
};

// out[i] = BLAKE2b-256(messages[i].head || messages[i].body) for every i
// in [0, n), all heads head_len bytes and all bodies body_len bytes.
void Hash(const Message* messages, size_t n, size_t head_len,
          size_t body_len, uint8_t (*out)[32]);

// The same with a given kernel (for tests and benchmarks); the kernel
// must be one the CPU supports.
void HashWith(Kernel kernel, const Message* messages, size_t n,
              size_t head_len, size_t body_len, uint8_t (*out)[32]);

// The kernel Hash uses on this CPU, and whether `kernel` can run here.
Kernel Best();
bool Supported(Kernel kernel);

// Messages hashed side by side by `kernel` (1, 4 or 8).
size_t Lanes(Kernel kernel);

}  // namespace larix::blake2b_lanes

#endif  // LARIX_OBJECTS_BLAKE2B_LANES_H_
