// eval/plot: scratch directories, series styles, and gnuplot rendering.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "eval/plot.hpp"
#include "formats/atomic_file.hpp"
#include "tests/support.hpp"
#include "vbq/error.hpp"

namespace fs = std::filesystem;

TEST_CASE("plot: a scratch directory is private and removed, a kept one stays") {
  std::string path;
  {
    vbq::ScratchDir dir;
    path = fs::path(dir.file("x")).parent_path().string();
    CHECK(fs::is_directory(path));
    std::ofstream(dir.file("x")) << "data";
    CHECK(fs::exists(dir.file("x")));
  }
  CHECK_FALSE(fs::exists(path));
  vbq::testing::TempDir tmp("plot");
  const std::string keep = tmp.file("kept/sub");
  {
    vbq::ScratchDir dir(keep);
    std::ofstream(dir.file("y")) << "data";
  }
  CHECK(fs::exists(keep + "/y"));
}

TEST_CASE("plot: series styles differ in colour for 16 series and in dash for neighbours") {
  std::set<std::string> styles, colours;
  for (size_t i = 0; i < 16; ++i) {
    const std::string s = vbq::series_style(i);
    CHECK(s.rfind("lc rgb '#", 0) == 0);
    CHECK(s.find(" dt ") != std::string::npos);
    styles.insert(s);
    colours.insert(s.substr(0, s.find(" dt ")));
    const std::string next = vbq::series_style(i + 1);
    CHECK(s.substr(s.find(" dt ")) != next.substr(next.find(" dt ")));
  }
  CHECK(styles.size() == 16);
  CHECK(colours.size() == 16);
  CHECK(vbq::series_style(16) == vbq::series_style(0));  // the palette repeats
}

TEST_CASE("plot: render_plot writes an SVG and a PNG, or fails cleanly on a bad script") {
  if (std::system("command -v gnuplot >/dev/null 2>&1 && command -v rsvg-convert >/dev/null 2>&1") != 0) {
    vbq::testing::skip_for_missing_data("gnuplot or rsvg-convert not installed");
    return;
  }
  vbq::testing::TempDir tmp("plot");
  vbq::ScratchDir dir;
  std::ofstream(dir.file("points.dat")) << "0 0\n1 1\n2 4\n";
  const std::string svg = tmp.file("out.svg");
  vbq::render_plot(svg, "plot '" + dir.file("points.dat") + "' with lines\n", dir, 320, 200);
  const std::string bytes = vbq::read_file_bytes(svg);
  CHECK(bytes.find("<svg") != std::string::npos);
  CHECK(bytes.find("width=\"320\"") != std::string::npos);
  const std::string png = vbq::read_file_bytes(tmp.file("out.png"));
  REQUIRE(png.size() > 8);
  CHECK(png.substr(1, 3) == "PNG");
  // A gnuplot error is an io error with gnuplot's message, and leaves no SVG.
  const std::string bad = tmp.file("bad.svg");
  try {
    vbq::render_plot(bad, "this is not gnuplot\n", dir);
    FAIL("no error");
  } catch (const vbq::Error& e) {
    CHECK(e.kind() == vbq::ErrorKind::io);
    CHECK(std::string(e.what()).find("gnuplot failed") != std::string::npos);
  }
  CHECK_FALSE(fs::exists(bad));
  CHECK_FALSE(fs::exists(bad + ".tmp.svg"));
}
