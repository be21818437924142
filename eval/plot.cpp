#include "eval/plot.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "formats/atomic_file.hpp"
#include "vbq/error.hpp"

namespace fs = std::filesystem;

namespace vbq {

ScratchDir::ScratchDir(const std::string& keep) : keep_(!keep.empty()) {
  if (keep_) {
    path_ = keep;
    fs::create_directories(path_);
    return;
  }
  std::string tmpl = (fs::temp_directory_path() / "vbq-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw Error(ErrorKind::io, "cannot create a temporary directory in " + tmpl);
  path_ = tmpl;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  if (!keep_) fs::remove_all(path_, ec);
}

std::string ScratchDir::file(const std::string& name) const { return (path_ / name).string(); }

std::string series_style(size_t i) {
  // Series i and i + 8 share a dash pattern, so their colours are far apart.
  // Pure red and black are left for emphasised series.
  static const char* const colours[] = {"#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#008080", "#000080",
                                        "#e377c2", "#800000", "#ff7f0e", "#ff1493", "#bcbd22", "#17becf",
                                        "#7f7f7f", "#b8860b", "#556b2f", "#87ceeb"};
  static const char* const dashes[] = {"1", "(10,5)", "(3,4)", "(12,4,3,4)", "(6,3,2,3,2,3)", "(18,6)", "(2,2)",
                                       "(14,3,3,3,3,3)"};
  return std::string("lc rgb '") + colours[i % 16] + "' dt " + dashes[i % 8];
}

void render_plot(const std::string& svg_path, const std::string& commands, const ScratchDir& dir, int width,
                 int height) {
  const std::string svg_tmp = svg_path + ".tmp.svg", script = dir.file("plot.gp"), err = dir.file("gnuplot.err");
  std::ofstream(script) << "set terminal svg size " << width << "," << height
                        << " dynamic enhanced font 'Helvetica,13' background rgb 'white'\n"
                        << "set output '" << svg_tmp << "'\n"
                        << commands;
  if (std::system(("gnuplot '" + script + "' 2>'" + err + "'").c_str()) != 0) {
    std::error_code ec;
    fs::remove(svg_tmp, ec);
    throw Error(ErrorKind::io, "gnuplot failed (is gnuplot-nox installed? run scripts/setup.sh): " + read_file_bytes(err));
  }
  fs::rename(svg_tmp, svg_path);
  const std::string png = fs::path(svg_path).replace_extension(".png").string();
  const std::string cmd = "rsvg-convert -b white -o '" + png + ".tmp' '" + svg_path + "' && mv '" + png + ".tmp' '" + png + "'";
  if (std::system(cmd.c_str()) != 0)
    throw Error(ErrorKind::io, "rsvg-convert failed writing " + png + " (is librsvg2-bin installed?)");
}

}  // namespace vbq
