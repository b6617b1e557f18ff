// Canonical encodings of Larix objects (docs/format.md, "Objects").
//
// Every canonical encoding starts with two bytes:
//   byte 0  kind     (ObjectKind: 1 page, 2 tree node, 3 commit, 4 tag)
//   byte 1  version  (format version of that kind; currently 1 for all)
// followed by the kind's payload.  The object id is the BLAKE2b-256 of the
// whole canonical encoding, header included, so a page and a commit with the
// same payload bytes never share an id.
//
// Decoders reject anything they do not fully understand: an unknown kind or
// version is NotSupported (a newer format), a short or over-long payload is
// Corruption.

#ifndef LARIX_OBJECTS_OBJECT_FORMAT_H_
#define LARIX_OBJECTS_OBJECT_FORMAT_H_

#include <string>
#include <string_view>

#include "larix/commit.h"
#include "larix/status.h"

namespace larix {

inline constexpr uint8_t kObjectFormatVersion = 1;
inline constexpr size_t kObjectHeaderSize = 2;

// Appends the two-byte header for `kind` to *dst.
void PutObjectHeader(std::string* dst, ObjectKind kind);

// The kind of a canonical encoding; checks the header only.
Result<ObjectKind> PeekObjectKind(std::string_view canonical);

// Checks the header is `kind` at a supported version and returns the
// payload that follows it.
Result<std::string_view> ObjectPayload(std::string_view canonical,
                                       ObjectKind kind);

std::string EncodePage(std::string_view page_bytes);
Result<std::string_view> DecodePage(std::string_view canonical);

std::string EncodeCommit(const Commit& commit);
Result<Commit> DecodeCommit(std::string_view canonical);

std::string EncodeTag(const Tag& tag);
Result<Tag> DecodeTag(std::string_view canonical);

}  // namespace larix

#endif  // LARIX_OBJECTS_OBJECT_FORMAT_H_
