#include "eval/rd_report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

#include "eval/plot.hpp"
#include "formats/atomic_file.hpp"
#include "vbq/error.hpp"

namespace vbq {

double bits_to_reach(std::vector<RdPoint> curve, double target_quality, RdRate rate, size_t metric) {
  const auto bits = [rate](const RdPoint& p) { return rate == RdRate::file_bits ? p.bits_per_dim : p.ideal_bits_per_dim; };
  const auto quality = [metric](const RdPoint& p) { return p.metrics.at(metric); };
  for (const RdPoint& p : curve) {
    if (p.method != curve.front().method)
      throw Error(ErrorKind::argument, "bits_to_reach: curve mixes methods '" + curve.front().method + "' and '" +
                                           p.method + "'");
    if (metric >= p.metrics.size())
      throw Error(ErrorKind::argument, "bits_to_reach: point '" + p.method + " " + p.setting + "' has no metric " +
                                           std::to_string(metric));
    if (!std::isfinite(bits(p)) || std::isnan(quality(p)))
      throw Error(ErrorKind::argument, "bits_to_reach: point '" + p.method + " " + p.setting +
                                           "' has a non-finite rate or NaN quality");
  }
  std::sort(curve.begin(), curve.end(), [&](const RdPoint& a, const RdPoint& b) {
    return bits(a) != bits(b) ? bits(a) < bits(b) : quality(a) < quality(b);
  });
  for (size_t i = 0; i < curve.size(); ++i) {
    if (quality(curve[i]) < target_quality) continue;
    if (i == 0) return bits(curve[0]);
    const RdPoint &a = curve[i - 1], &b = curve[i];  // quality(a) < target <= quality(b)
    const double t = (target_quality - quality(a)) / (quality(b) - quality(a));
    return bits(a) + t * (bits(b) - bits(a));
  }
  return std::numeric_limits<double>::quiet_NaN();
}

void write_rd_csv(const std::string& path, const RdResult& r, bool force) {
  std::ostringstream s;
  s << "# uncompressed";
  for (size_t i = 0; i < r.metric_names.size(); ++i) s << " " << r.metric_names[i] << "=" << r.uncompressed[i];
  s << "; dimensions=" << r.dimensions << "\n";
  s << "method,setting,bytes,bits_per_dim,ideal_entropy_bits_per_dim";
  for (auto& m : r.metric_names) s << "," << m;
  s << "\n";
  s.precision(8);
  for (auto& row : r.rows) {
    s << row.method << "," << row.setting << "," << row.bytes << "," << row.bits_per_dim << ","
      << row.ideal_bits_per_dim;
    for (double m : row.metrics) s << "," << m;
    s << "\n";
  }
  AtomicOutput out(path, force);
  std::string text = s.str();
  out.write_all(text.data(), text.size());
  out.commit();
}

std::optional<double> parse_whole_double(const std::string& text) {
  size_t used = 0;
  double v = NAN;
  try {
    v = std::stod(text, &used);
  } catch (const std::logic_error&) {
    return std::nullopt;
  }
  if (used != text.size()) return std::nullopt;
  return v;
}

RdResult read_rd_csv(const std::string& path) {
  std::istringstream in(read_file_bytes(path));
  RdResult r;
  std::string line;
  auto bad = [&](size_t n, const std::string& why) {
    return Error(ErrorKind::format, path + ": line " + std::to_string(n) + ": " + why);
  };
  auto number = [&](const std::string& text, size_t n) {
    const std::optional<double> v = parse_whole_double(text);
    if (!v) throw bad(n, "'" + text + "' is not a number");
    return *v;
  };
  std::map<std::string, double> uncompressed;
  for (size_t n = 1; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    if (line.rfind("# uncompressed", 0) == 0) {  // "# uncompressed a=1 b=2; dimensions=N"
      std::istringstream fields(line.substr(14));
      std::string field;
      while (fields >> field) {
        if (!field.empty() && field.back() == ';') field.pop_back();
        const size_t eq = field.find('=');
        if (eq == std::string::npos) continue;
        if (field.substr(0, eq) == "dimensions") r.dimensions = uint64_t(number(field.substr(eq + 1), n));
        else uncompressed[field.substr(0, eq)] = number(field.substr(eq + 1), n);
      }
      continue;
    }
    if (line[0] == '#') continue;
    std::vector<std::string> cells;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    if (cells.size() >= 5 && cells[0] == "method") {
      r.metric_names.assign(cells.begin() + 5, cells.end());
      continue;
    }
    if (r.metric_names.empty()) throw bad(n, "a point before the header line 'method,setting,bytes,...'");
    if (cells.size() != 5 + r.metric_names.size()) throw bad(n, "expected " + std::to_string(5 + r.metric_names.size()) + " columns");
    RdPoint row{cells[0], cells[1], uint64_t(number(cells[2], n)), number(cells[3], n), number(cells[4], n), {}};
    for (size_t i = 5; i < cells.size(); ++i) row.metrics.push_back(number(cells[i], n));
    r.rows.push_back(std::move(row));
  }
  if (r.metric_names.empty()) throw Error(ErrorKind::format, path + ": no header line 'method,setting,bytes,...'");
  for (const std::string& m : r.metric_names) {
    if (!uncompressed.count(m)) throw Error(ErrorKind::format, path + ": the '# uncompressed' line has no " + m);
    r.uncompressed.push_back(uncompressed[m]);
  }
  auto hits10 = std::find(r.metric_names.begin(), r.metric_names.end(), "hits10");
  r.primary = hits10 == r.metric_names.end() ? 0 : size_t(hits10 - r.metric_names.begin());
  r.lower_is_better = metric_lower_is_better(r.metric_names[r.primary]);
  return r;
}

static std::vector<std::string> method_order(const RdResult& r) {
  std::vector<std::string> methods;
  for (auto& row : r.rows)
    if (std::find(methods.begin(), methods.end(), row.method) == methods.end()) methods.push_back(row.method);
  return methods;
}

// One method's points, in sweep order.
static std::vector<RdPoint> curve(const RdResult& r, const std::string& method) {
  std::vector<RdPoint> pts;
  std::copy_if(r.rows.begin(), r.rows.end(), std::back_inserter(pts), [&](const RdPoint& p) { return p.method == method; });
  return pts;
}

bool metric_lower_is_better(const std::string& metric) {
  return metric.size() >= 3 && metric.compare(metric.size() - 3, 3, "nll") == 0;
}

double level_target(const RdResult& r, double level) {
  const double full = r.uncompressed[r.primary];
  return r.lower_is_better ? full + level : level * full;
}

double bits_for_level(const RdResult& r, const std::string& method, double level) {
  std::vector<RdPoint> c = curve(r, method);
  if (!r.lower_is_better) return bits_to_reach(std::move(c), level_target(r, level), RdRate::file_bits, r.primary);
  for (RdPoint& p : c) p.metrics[r.primary] = -p.metrics[r.primary];  // "at or below" as "at or above"
  return bits_to_reach(std::move(c), -level_target(r, level), RdRate::file_bits, r.primary);
}

// What a bit is spent on: a network's weights, or an embedding's latent dimensions (the paper's unit).
static const char* rate_unit(const RdResult& r) {
  return r.metric_names[r.primary] == "accuracy" ? "weight" : "latent dimension";
}

static double bits_for(const RdResult& r, const std::string& method, double level) {
  return bits_for_level(r, method, level);
}

std::string rd_summary(const RdResult& r, const std::vector<double>& fractions) {
  const double full = r.uncompressed[r.primary];
  const std::string& metric = r.metric_names[r.primary];
  std::ostringstream s;
  char buf[256];
  std::snprintf(buf, sizeof buf, "bits per %s to %s uncompressed %s = %.4f (%llu dims)\n", rate_unit(r),
                r.lower_is_better ? "stay within an increase over" : "keep a fraction of", metric.c_str(), full,
                (unsigned long long)r.dimensions);
  s << buf;
  int width = 18;  // the label column fits the longest "<variant> / best"
  for (const std::string& m : method_order(r)) width = std::max(width, int(m.size() + 8));
  std::snprintf(buf, sizeof buf, "%-*s", width, "method");
  s << buf;
  for (double f : fractions) {
    if (r.lower_is_better) std::snprintf(buf, sizeof buf, " %+10.4g", f);
    else std::snprintf(buf, sizeof buf, " %9.1f%%", 100 * f);
    s << buf;
  }
  s << "\n";
  std::map<std::string, std::vector<double>> need;
  for (auto& m : method_order(r)) {
    std::snprintf(buf, sizeof buf, "%-*s", width, m.c_str());
    s << buf;
    for (double f : fractions) {
      double b = bits_for(r, m, f);
      need[m].push_back(b);
      if (std::isnan(b)) std::snprintf(buf, sizeof buf, " %10s", "-");
      else std::snprintf(buf, sizeof buf, " %10.3f", b);
      s << buf;
    }
    s << "\n";
  }
  auto is_vbq = [](const std::string& m) { return m.rfind("vbq", 0) == 0; };
  // The fewest bits at level i among the VBQ variants (vbq true) or the baselines.
  auto fewest = [&](size_t i, bool vbq) {
    double best = NAN;
    for (auto& [m, v] : need)
      if (is_vbq(m) == vbq && !std::isnan(v[i]) && (std::isnan(best) || v[i] < best)) best = v[i];
    return best;
  };
  auto ratio_row = [&](const std::string& label, const std::function<double(size_t)>& bits) {
    std::snprintf(buf, sizeof buf, "%-*s", width, label.c_str());
    s << buf;
    for (size_t i = 0; i < fractions.size(); ++i) {
      const double ratio = bits(i) / fewest(i, false);
      if (std::isnan(ratio)) std::snprintf(buf, sizeof buf, " %10s", "-");
      else std::snprintf(buf, sizeof buf, " %10.3f", ratio);
      s << buf;
    }
    s << "\n";
  };
  size_t variants = 0;
  for (auto& [variant, bits] : need) {
    if (!is_vbq(variant)) continue;
    ++variants;
    ratio_row(variant + " / best", [&bits = bits](size_t i) { return bits[i]; });
  }
  if (variants > 1) ratio_row("best vbq / best", [&](size_t i) { return fewest(i, true); });
  // Each improvement against the paper's configuration.
  if (need.count("vbq"))
    for (auto& [variant, bits] : need) {
      if (!is_vbq(variant) || variant == "vbq") continue;
      std::snprintf(buf, sizeof buf, "%-*s", width, (variant + " / vbq").c_str());
      s << buf;
      for (size_t i = 0; i < fractions.size(); ++i) {
        double ratio = bits[i] / need["vbq"][i];
        if (std::isnan(ratio)) std::snprintf(buf, sizeof buf, " %10s", "-");
        else std::snprintf(buf, sizeof buf, " %10.3f", ratio);
        s << buf;
      }
      s << "\n";
    }
  // The knob: lambda against size and quality for the paper's configuration.
  s << "lambda -> bits/dim, " << metric << " (vbq):";
  int shown = 0;
  for (const RdPoint& row : r.rows)
    if (row.method == "vbq") {
      std::snprintf(buf, sizeof buf, "%s  %s: %.3f, %.4f", shown++ % 3 ? "" : "\n ", row.setting.substr(row.setting.find('=') + 1).c_str(),
                    row.bits_per_dim, row.metrics[r.primary]);
      s << buf;
    }
  s << "\n";
  return s.str();
}

// The baseline (method not named vbq...), or with `variant` the VBQ variant other
// than the paper's "vbq", that needs the fewest bits to keep the middle summary
// fraction (falling back to lower ones when none reaches it); "" if none.
static std::string best_method(const RdResult& r, const std::vector<double>& fractions, bool variant) {
  std::vector<double> order(fractions.begin(), fractions.end());
  std::sort(order.begin(), order.end());
  if (r.lower_is_better) std::reverse(order.begin(), order.end());  // loosest first, as fractions ascending
  for (size_t i = order.size() / 2 + 1; i-- > 0;) {
    std::string best;
    double best_bits = NAN;
    for (const std::string& m : method_order(r)) {
      if ((m.rfind("vbq", 0) == 0) != variant || m == "vbq") continue;
      const double b = bits_for(r, m, order[i]);
      if (!std::isnan(b) && (std::isnan(best_bits) || b < best_bits)) best = m, best_bits = b;
    }
    if (!best.empty()) return best;
  }
  return "";
}

void plot_rd(const std::string& svg_path, const RdResult& r, const std::string& title, const std::string& reference_csv,
             const std::string& reference_label, const std::vector<double>& fractions) {
  ScratchDir dir("");
  const std::vector<std::string> methods = method_order(r);
  const double full = r.uncompressed[r.primary];
  const std::string best = best_method(r, fractions, false), best_variant = best_method(r, fractions, true);

  // One data file per method, sorted by rate; styles: the paper's VBQ, the best
  // VBQ variant and the best baseline thick and solid, everything else thin with
  // colour + dash. The emphasised three are drawn last, on top of any series they
  // coincide with (they come last in the key too).
  std::string series, emphasised;
  size_t styled = 0;
  for (size_t i = 0; i < methods.size(); ++i) {
    const std::string& m = methods[i];
    const std::string data = dir.file("m" + std::to_string(i) + ".csv");
    std::ofstream out(data);
    out.precision(8);
    std::vector<RdPoint> c = curve(r, m);
    std::sort(c.begin(), c.end(), [](auto& a, auto& b) { return a.bits_per_dim < b.bits_per_dim; });
    for (auto& p : c) out << p.bits_per_dim << "," << p.metrics[r.primary] << "\n";
    std::string style, label = m;
    if (m == "vbq") style = "lc rgb '#d62728' dt 1 lw 4 pt 7 ps 0.7", label += " (paper)";
    else if (m == best) style = "lc rgb '#000000' dt 1 lw 4 pt 5 ps 0.6", label += " (best baseline)";
    else if (m == best_variant) style = "lc rgb '#0050ff' dt 1 lw 4 pt 9 ps 0.7", label += " (best VBQ variant)";
    else style = series_style(styled++) + " lw 2 pt " + std::to_string(1 + int(i % 12)) + " ps 0.5";
    std::string& to = m == "vbq" || m == best || m == best_variant ? emphasised : series;
    to += (to.empty() ? "" : ", ") + std::string("'") + data + "' using 1:2 with linespoints " + style + " title '" +
          label + "'";
  }
  if (!emphasised.empty()) series += (series.empty() ? "" : ", ") + emphasised;
  if (!reference_csv.empty()) {
    // Reference rows "method,setting,bits,quality,...": one open-symbol series per method.
    std::ifstream in(reference_csv);
    if (!in) throw Error(ErrorKind::io, "cannot open reference curve '" + reference_csv + "'");
    std::map<std::string, std::ofstream> files;
    std::vector<std::string> order;
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty() || line[0] == '#' || line.rfind("method,", 0) == 0) continue;
      std::stringstream ls(line);
      std::string method, setting, bits, quality;
      std::getline(ls, method, ','), std::getline(ls, setting, ','), std::getline(ls, bits, ',');
      std::getline(ls, quality, ',');
      if (!files.count(method)) {
        order.push_back(method);
        files[method].open(dir.file("ref" + std::to_string(order.size()) + ".csv"));
      }
      files[method] << bits << "," << quality << "\n";
    }
    for (size_t i = 0; i < order.size(); ++i) {
      files[order[i]].close();
      series += ", '" + dir.file("ref" + std::to_string(i + 1) + ".csv") + "' using 1:2 with points pt " +
                std::to_string(4 + 2 * (i % 4)) + " ps 0.5 lc rgb 'gray" + std::to_string(30 + 10 * (i % 5)) +
                "' title '" + reference_label + ": " + order[i] + "'";
    }
  }
  char unc[64];
  std::snprintf(unc, sizeof unc, "%.6g", full);
  series += std::string(", ") + unc + " with lines dt 3 lw 2 lc rgb 'gray40' title 'uncompressed (" + unc + ")'";

  // The zoom: qualities from just below the lowest summary fraction to the top,
  // over the rates at which the methods reach that band.
  std::vector<double> sorted(fractions.begin(), fractions.end());
  std::sort(sorted.begin(), sorted.end());
  if (r.lower_is_better) std::reverse(sorted.begin(), sorted.end());  // loosest level first
  double x_lo = NAN, x_hi = NAN, y_top = full;
  for (const RdPoint& row : r.rows) y_top = std::max(y_top, row.metrics[r.primary]);
  if (!sorted.empty())
    for (const std::string& m : methods) {
      const double lo = bits_for(r, m, sorted.front());
      const double hi = bits_for(r, m, sorted.back());
      if (!std::isnan(lo)) x_lo = std::isnan(x_lo) ? lo : std::min(x_lo, lo);
      if (!std::isnan(hi)) x_hi = std::isnan(x_hi) ? hi : std::max(x_hi, hi);
    }
  const bool zoom = !std::isnan(x_lo) && !std::isnan(x_hi) && x_hi > x_lo;
  const double y_lo = sorted.empty() ? 0 : sorted.front() * full - 0.02 * full;
  // The zoom's quality band: from the loosest level to just past the uncompressed value.
  double band_lo = y_lo, band_hi = std::max(full + 0.05 * (full - y_lo), y_top + 0.02 * (full - y_lo));
  if (r.lower_is_better && !sorted.empty()) {
    const double span = sorted.front();
    band_lo = full - 0.2 * span, band_hi = full + 1.3 * span;
  }
  auto level_label = [&](double level) {
    char text[32];
    if (r.lower_is_better) std::snprintf(text, sizeof text, "+%g", level);
    else std::snprintf(text, sizeof text, "%g%%", 100 * level);
    return std::string(text);
  };

  std::ostringstream gp;
  gp << "set datafile separator ','\nset grid\nset logscale x 2\nset format x '%.3g'\n"
     << "set xlabel 'bits per " << rate_unit(r) << " (real file bytes, log scale)'\n"
     << "set ylabel '" << r.metric_names[r.primary] << "' noenhanced\n"
     << "set multiplot title \"" << title << "\" noenhanced\n";
  // Left: the whole sweep. Right: the band where the methods differ, with the key.
  gp << "set title 'all points'\nset yrange [0:" << 1.04 * y_top << "]\n";
  if (zoom) {
    gp << "set size 0.42,0.95\nset origin 0,0\nset key off\nplot " << series << "\n";
    gp << "set size 0.42,0.95\nset origin 0.40,0\n"
       << "set title 'zoom: " << (r.lower_is_better ? "within " + level_label(sorted.front()) + " of uncompressed"
                                                     : level_label(sorted.front()) + "-100% of uncompressed")
       << " (dotted: the summary levels)'\n"
       << "set xrange [" << x_lo / 1.25 << ":" << x_hi * 1.25 << "]\nset yrange [" << band_lo << ":" << band_hi
       << "]\n";
    for (size_t i = 0; i < sorted.size(); ++i)
      gp << "set arrow " << i + 1 << " from graph 0, first " << level_target(r, sorted[i]) << " to graph 1, first "
         << level_target(r, sorted[i]) << " nohead dt 2 lc rgb 'gray60'\n"
         << "set label " << i + 1 << " '" << level_label(sorted[i]) << "' at graph 0.01, first "
         << level_target(r, sorted[i]) << " offset 0,0.5 font ',10' tc rgb 'gray40'\n";
  }
  gp << "set key outside right top vertical Left reverse noenhanced spacing 1.1 font ',11' samplen 3\n"
     << "set size " << (zoom ? 0.6 : 1.0) << ",0.95\nset origin " << (zoom ? 0.40 : 0.0) << ",0\n";
  gp << "plot " << series << "\nunset multiplot\n";
  render_plot(svg_path, gp.str(), dir, 1500, 680);
}

}  // namespace vbq
