// The general-purpose compressors of the paper's Fig. 3 baselines (docs/PROTOCOL.md,
// "Baselines"), run on the stored grid (eval/grid_storage.hpp). Each returns the
// WHOLE output of the real format, headers and checks included, so its size() is
// the byte count the protocol asks for.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vbq {

// ---------------------------------------------------------------------------
// General-purpose compressors, each as its command-line tool would write it.
//   gzip9         gzip format (RFC 1952) by zlib deflate, level 9, window 2^15
//                 (GNU gzip has its own deflate: sizes differ by ~0.05%).
//   bzip2_9       bzip2, block size 900k ("BZh9").
//   xz9e          .xz, preset 9 | extreme, CRC64 check (xz -9e), one block.
//   lzma_alone9e  legacy .lzma ("alone") container, preset 9e options, size
//                 field "unknown" + end marker, as the lzma tool writes; the
//                 container the paper used.
//   zstd19/22     zstd frame at level 19 / 22 with content size and the XXH64
//                 checksum the zstd CLI adds by default.
// Checked against the tools on 2e6 grid bytes (q_max 7): bzip2 and lzma
// byte-identical in size, xz +4 bytes (block header sizes), zstd +3 bytes
// (content size; `zstd < stdin` omits it), gzip +382 bytes.
enum class GeneralCompressor { gzip9, bzip2_9, xz9e, lzma_alone9e, zstd19, zstd22 };

inline constexpr GeneralCompressor kAllGeneralCompressors[] = {
    GeneralCompressor::gzip9,        GeneralCompressor::bzip2_9, GeneralCompressor::xz9e,
    GeneralCompressor::lzma_alone9e, GeneralCompressor::zstd19,  GeneralCompressor::zstd22};

// "gzip -9", "bzip2 -9", "xz -9e", "lzma -9e (.lzma)", "zstd -19", "zstd --ultra -22".
std::string compressor_label(GeneralCompressor c);

// The complete compressed file for `data` (any size, empty included).
// Deterministic. Throws ErrorKind::io when the library fails (e.g. out of memory).
std::string compress_bytes(GeneralCompressor c, std::string_view data);

// Inverse of compress_bytes for one complete stream of that format. Throws
// ErrorKind::corrupt on malformed, truncated or trailing data, ErrorKind::io on
// library failure.
std::string decompress_bytes(GeneralCompressor c, std::string_view compressed);

}  // namespace vbq
