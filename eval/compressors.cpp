// General-purpose compressors: see compressors.hpp.
#include "eval/compressors.hpp"

#include <bzlib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <limits>
#include <random>

#include "vbq/error.hpp"

namespace vbq {

std::string compressor_label(GeneralCompressor c) {
  switch (c) {
    case GeneralCompressor::gzip9: return "gzip -9";
    case GeneralCompressor::bzip2_9: return "bzip2 -9";
    case GeneralCompressor::xz9e: return "xz -9e";
    case GeneralCompressor::lzma_alone9e: return "lzma -9e (.lzma)";
    case GeneralCompressor::zstd19: return "zstd -19";
    case GeneralCompressor::zstd22: return "zstd --ultra -22";
  }
  throw Error(ErrorKind::argument, "unknown general compressor");
}

namespace {

// The libraries take 32-bit lengths (zlib, bzip2): feed at most this per call.
constexpr size_t kChunk = size_t(1) << 30;

[[noreturn]] void fail(ErrorKind kind, GeneralCompressor c, const std::string& what) {
  throw Error(kind, compressor_label(c) + ": " + what);
}

// A decoder must consume its whole input: anything after the stream is corruption.
void require_consumed(GeneralCompressor c, size_t consumed, size_t size) {
  if (consumed != size)
    fail(ErrorKind::corrupt, c,
         std::to_string(size - consumed) + " trailing bytes at byte offset " + std::to_string(consumed));
}

// Streaming coders (zlib, bzip2, liblzma): hands the next input chunk to `s` once it has
// used up the last, and grows `out` for the next output (the caller trims the unused room).
template <class Stream>
void feed_input(Stream& s, std::string_view in, size_t& in_pos) {
  if (s.avail_in == 0 && in_pos < in.size()) {
    const size_t n = std::min(kChunk, in.size() - in_pos);
    s.next_in = reinterpret_cast<decltype(s.next_in)>(const_cast<char*>(in.data() + in_pos));
    s.avail_in = decltype(s.avail_in)(n);
    in_pos += n;
  }
}
template <class Stream>
void grow_output(Stream& s, std::string& out) {
  const size_t old = out.size();
  const size_t room = std::max<size_t>(1 << 16, std::min<size_t>(kChunk, old));
  out.resize(old + room);
  s.next_out = reinterpret_cast<decltype(s.next_out)>(out.data() + old);
  s.avail_out = decltype(s.avail_out)(room);
}

// ---- gzip ------------------------------------------------------------------
// One loop for both directions: deflate (level 9) or inflate over all of `in`,
// with the gzip wrapper (windowBits 15 + 16; memLevel 8 is gzip's default).
std::string gzip_run(std::string_view in, bool decoding) {
  constexpr GeneralCompressor c = GeneralCompressor::gzip9;
  z_stream s{};
  const int init = decoding ? inflateInit2(&s, 15 + 16) : deflateInit2(&s, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  if (init != Z_OK) fail(ErrorKind::io, c, decoding ? "inflateInit2 failed" : "deflateInit2 failed");
  auto end = [&] { decoding ? inflateEnd(&s) : deflateEnd(&s); };
  std::string out;
  size_t in_pos = 0;
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    feed_input(s, in, in_pos);
    grow_output(s, out);
    rc = decoding ? inflate(&s, Z_NO_FLUSH) : deflate(&s, in_pos == in.size() ? Z_FINISH : Z_NO_FLUSH);
    out.resize(out.size() - s.avail_out);
    // inflate without progress on the whole input: the stream was cut short.
    const bool stalled = decoding && rc == Z_BUF_ERROR && s.avail_in == 0 && in_pos == in.size();
    if ((rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) || stalled) {
      const std::string msg = stalled               ? "truncated stream"
                              : !decoding           ? "deflate failed"
                              : s.msg ? std::string(s.msg) : "inflate failed";
      end();
      fail(decoding && rc != Z_MEM_ERROR ? ErrorKind::corrupt : ErrorKind::io, c, msg);
    }
  }
  const size_t consumed = in_pos - s.avail_in;
  end();
  if (decoding) require_consumed(c, consumed, in.size());
  return out;
}

// ---- bzip2 -----------------------------------------------------------------
std::string bzip2_compress(std::string_view in) {
  if (in.size() > UINT_MAX / 2) fail(ErrorKind::io, GeneralCompressor::bzip2_9, "input too large");
  // Documented bound: 1% + 600 bytes.
  unsigned int dest_len = unsigned(in.size() + in.size() / 100 + 601);
  std::string out(dest_len, '\0');
  const int rc = BZ2_bzBuffToBuffCompress(out.data(), &dest_len, const_cast<char*>(in.data()), unsigned(in.size()),
                                          9, 0, 0);
  if (rc != BZ_OK) fail(ErrorKind::io, GeneralCompressor::bzip2_9, "BZ2_bzBuffToBuffCompress error " + std::to_string(rc));
  out.resize(dest_len);
  return out;
}

std::string bzip2_decompress(std::string_view in) {
  bz_stream s{};
  if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK) fail(ErrorKind::io, GeneralCompressor::bzip2_9, "init failed");
  std::string out;
  size_t in_pos = 0;
  int rc = BZ_OK;
  while (rc != BZ_STREAM_END) {
    feed_input(s, in, in_pos);
    const size_t before = out.size();
    grow_output(s, out);
    const bool had_input = s.avail_in > 0;
    rc = BZ2_bzDecompress(&s);
    out.resize(out.size() - s.avail_out);
    const bool stalled = rc == BZ_OK && !had_input && out.size() == before && in_pos == in.size();
    if ((rc != BZ_OK && rc != BZ_STREAM_END) || stalled) {
      BZ2_bzDecompressEnd(&s);
      fail(rc == BZ_MEM_ERROR ? ErrorKind::io : ErrorKind::corrupt, GeneralCompressor::bzip2_9,
           stalled ? "truncated stream" : "BZ2_bzDecompress error " + std::to_string(rc));
    }
  }
  const size_t consumed = in_pos - s.avail_in;
  BZ2_bzDecompressEnd(&s);
  require_consumed(GeneralCompressor::bzip2_9, consumed, in.size());
  return out;
}

// ---- xz / lzma alone -------------------------------------------------------
uint32_t preset_9e() { return 9 | LZMA_PRESET_EXTREME; }

std::string xz_compress(std::string_view in) {
  std::string out(lzma_stream_buffer_bound(in.size()), '\0');
  size_t out_pos = 0;
  const lzma_ret rc = lzma_easy_buffer_encode(preset_9e(), LZMA_CHECK_CRC64, nullptr,
                                              reinterpret_cast<const uint8_t*>(in.data()), in.size(),
                                              reinterpret_cast<uint8_t*>(out.data()), &out_pos, out.size());
  if (rc != LZMA_OK) fail(ErrorKind::io, GeneralCompressor::xz9e, "lzma_easy_buffer_encode error " + std::to_string(rc));
  out.resize(out_pos);
  return out;
}

// Runs an initialised lzma_stream over all of `in` with LZMA_FINISH.
// Decoders report what is left unconsumed in *consumed.
std::string lzma_run(lzma_stream& s, std::string_view in, GeneralCompressor c, bool decoding, size_t* consumed) {
  s.next_in = reinterpret_cast<const uint8_t*>(in.data());
  s.avail_in = in.size();
  std::string out;
  lzma_ret rc = LZMA_OK;
  while (rc != LZMA_STREAM_END) {
    grow_output(s, out);
    rc = lzma_code(&s, LZMA_FINISH);
    out.resize(out.size() - s.avail_out);
    if (rc != LZMA_OK && rc != LZMA_STREAM_END) {
      const size_t at = in.size() - s.avail_in;
      lzma_end(&s);
      const bool memory = rc == LZMA_MEM_ERROR || rc == LZMA_MEMLIMIT_ERROR;
      std::string what = rc == LZMA_BUF_ERROR ? "truncated stream" : "lzma_code error " + std::to_string(rc);
      fail(decoding && !memory ? ErrorKind::corrupt : ErrorKind::io, c, what + " at byte offset " + std::to_string(at));
    }
  }
  if (consumed) *consumed = in.size() - s.avail_in;
  lzma_end(&s);
  return out;
}

std::string lzma_alone_compress(std::string_view in) {
  lzma_options_lzma options;
  if (lzma_lzma_preset(&options, preset_9e())) fail(ErrorKind::io, GeneralCompressor::lzma_alone9e, "bad preset");
  lzma_stream s = LZMA_STREAM_INIT;
  if (lzma_alone_encoder(&s, &options) != LZMA_OK)
    fail(ErrorKind::io, GeneralCompressor::lzma_alone9e, "lzma_alone_encoder failed");
  return lzma_run(s, in, GeneralCompressor::lzma_alone9e, false, nullptr);
}

std::string lzma_decompress(std::string_view in, GeneralCompressor c) {
  lzma_stream s = LZMA_STREAM_INIT;
  const lzma_ret init = c == GeneralCompressor::xz9e ? lzma_stream_decoder(&s, UINT64_MAX, 0)
                                                     : lzma_alone_decoder(&s, UINT64_MAX);
  if (init != LZMA_OK) fail(ErrorKind::io, c, "decoder init failed");
  size_t consumed = 0;
  std::string out = lzma_run(s, in, c, true, &consumed);
  require_consumed(c, consumed, in.size());
  return out;
}

// ---- zstd ------------------------------------------------------------------
std::string zstd_compress(std::string_view in, int level, GeneralCompressor c) {
  ZSTD_CCtx* ctx = ZSTD_createCCtx();
  if (!ctx) fail(ErrorKind::io, c, "ZSTD_createCCtx failed");
  std::string out(ZSTD_compressBound(in.size()), '\0');
  size_t n = ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, level);
  // The zstd CLI writes the content checksum by default.
  if (!ZSTD_isError(n)) n = ZSTD_CCtx_setParameter(ctx, ZSTD_c_checksumFlag, 1);
  if (!ZSTD_isError(n)) n = ZSTD_compress2(ctx, out.data(), out.size(), in.data(), in.size());
  ZSTD_freeCCtx(ctx);
  if (ZSTD_isError(n)) fail(ErrorKind::io, c, ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

std::string zstd_decompress(std::string_view in, GeneralCompressor c) {
  const size_t frame = ZSTD_findFrameCompressedSize(in.data(), in.size());
  if (ZSTD_isError(frame)) fail(ErrorKind::corrupt, c, ZSTD_getErrorName(frame));
  require_consumed(c, frame, in.size());
  const unsigned long long size = ZSTD_getFrameContentSize(in.data(), in.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN)
    fail(ErrorKind::corrupt, c, "frame header lacks a content size");
  // A zstd block expands at most 2^17-fold (RLE): reject absurd headers early.
  if (size / 65536 > in.size()) fail(ErrorKind::corrupt, c, "implausible content size in frame header");
  std::string out(size, '\0');
  const size_t n = ZSTD_decompress(out.data(), out.size(), in.data(), in.size());
  if (ZSTD_isError(n)) fail(ErrorKind::corrupt, c, ZSTD_getErrorName(n));
  if (n != size) fail(ErrorKind::corrupt, c, "decoded size differs from the frame header");
  return out;
}

}  // namespace

std::string compress_bytes(GeneralCompressor c, std::string_view data) {
  switch (c) {
    case GeneralCompressor::gzip9: return gzip_run(data, false);
    case GeneralCompressor::bzip2_9: return bzip2_compress(data);
    case GeneralCompressor::xz9e: return xz_compress(data);
    case GeneralCompressor::lzma_alone9e: return lzma_alone_compress(data);
    case GeneralCompressor::zstd19: return zstd_compress(data, 19, c);
    case GeneralCompressor::zstd22: return zstd_compress(data, 22, c);
  }
  throw Error(ErrorKind::argument, "unknown general compressor");
}

std::string decompress_bytes(GeneralCompressor c, std::string_view compressed) {
  switch (c) {
    case GeneralCompressor::gzip9: return gzip_run(compressed, true);
    case GeneralCompressor::bzip2_9: return bzip2_decompress(compressed);
    case GeneralCompressor::xz9e:
    case GeneralCompressor::lzma_alone9e: return lzma_decompress(compressed, c);
    case GeneralCompressor::zstd19:
    case GeneralCompressor::zstd22: return zstd_decompress(compressed, c);
  }
  throw Error(ErrorKind::argument, "unknown general compressor");
}

}  // namespace vbq
