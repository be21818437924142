// Plots people can look at: gnuplot renders SVG, rsvg-convert a PNG beside it.
#pragma once
#include <filesystem>
#include <cstddef>
#include <string>

namespace vbq {

// A private working directory (data files, scripts), removed at the end unless
// `keep` names a directory to use and keep instead.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& keep = "");
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string file(const std::string& name) const;

 private:
  std::filesystem::path path_;
  bool keep_;
};

// Style of series i among many: 16 colours that stay apart on white and 8 dash
// patterns, so that up to 16 series differ in colour and neighbours in dash too. Gnuplot
// syntax fragments: "lc rgb '#1f77b4' dt (8,4)".
std::string series_style(size_t i);

// Runs gnuplot on `commands` (everything after the terminal and output lines,
// e.g. labels and a plot command reading files in `dir`) at width x height
// pixels, then writes svg_path and svg_path with .png. Both appear complete or
// not at all. Throws ErrorKind::io if gnuplot or rsvg-convert fail.
void render_plot(const std::string& svg_path, const std::string& commands, const ScratchDir& dir, int width = 960,
                 int height = 640);

}  // namespace vbq
