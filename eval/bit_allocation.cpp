#include "eval/bit_allocation.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "eval/plot.hpp"
#include "formats/atomic_file.hpp"
#include "vbq/error.hpp"

namespace vbq {

namespace {

Container grid_container(const Model& model, int q_max, int threads) {
  Container c;
  for (const Tensor& t : model.tensors) c.tensors.push_back(labelled(encode_grid(t.mu, q_max, threads, t.shape), t));
  return c;
}

// Log-spaced bins over [lo, hi]; x outside goes to the end bins.
struct LogBins {
  double lo, hi;
  int n;
  int index(double x) const {
    int i = int(std::floor(n * std::log(x / lo) / std::log(hi / lo)));
    return std::clamp(i, 0, n - 1);
  }
  double edge(int i) const { return lo * std::pow(hi / lo, double(i) / n); }
  std::vector<BitBin> make() const {
    std::vector<BitBin> b(n);
    for (int i = 0; i < n; ++i) b[i].lo = edge(i), b[i].hi = edge(i + 1);
    return b;
  }
};

// Turns sums into means and drops empty bins.
std::vector<BitBin> finish(std::vector<BitBin> bins) {
  std::vector<BitBin> out;
  for (BitBin b : bins)
    if (b.count > 0) b.vbq /= double(b.count), b.uniform /= double(b.count), out.push_back(b);
  return out;
}

}  // namespace

BitAllocation analyze_bit_allocation(const Model& model, CompressSettings settings) {
  settings.include_vocab = false;
  const int threads = settings.vbq.threads;
  BitAllocation a;
  a.lambda = settings.vbq.lambda;
  Container vbq = compress_model(model, settings);
  a.vbq_bytes = serialize_container(vbq).size();

  // The uniform grid whose file is closest in size (file size grows with q_max).
  int lo = 1, hi = 1 << 15;
  while (hi - lo > 1) {
    int mid = (lo + hi) / 2;
    (serialize_container(grid_container(model, mid, threads)).size() <= a.vbq_bytes ? lo : hi) = mid;
  }
  const uint64_t bytes_lo = serialize_container(grid_container(model, lo, threads)).size();
  const uint64_t bytes_hi = serialize_container(grid_container(model, hi, threads)).size();
  a.q_max = a.vbq_bytes - std::min(a.vbq_bytes, bytes_lo) <= std::max(a.vbq_bytes, bytes_hi) - a.vbq_bytes ? lo : hi;
  Container uniform = grid_container(model, a.q_max, threads);
  a.uniform_bytes = serialize_container(uniform).size();

  const LogBins sigma_bins{1e-3, 10, 40};
  std::vector<BitBin> by_sigma = sigma_bins.make();
  a.words = model.vocab.size();
  const LogBins rank_bins{1, double(std::max<uint64_t>(a.words, 2)) + 1, 50};
  std::vector<BitBin> by_rank = rank_bins.make();
  std::vector<double> row_vbq(a.words), row_uniform(a.words);
  for (size_t k = 0; k < model.tensors.size(); ++k) {
    const Tensor& t = model.tensors[k];
    a.dimensions += t.size();
    std::vector<double> bits_vbq = element_code_lengths(vbq.tensors[k], threads);
    std::vector<double> bits_uniform = element_code_lengths(uniform.tensors[k], threads);
    double sigma0 = fit_gaussian_prior(t.mu).parameters()[1];
    for (size_t i = 0; i < t.size(); ++i) {
      BitBin& b = by_sigma[sigma_bins.index(t.sigma[i] / sigma0)];
      ++b.count, b.vbq += bits_vbq[i], b.uniform += bits_uniform[i];
    }
    if (a.words == 0 || t.shape[0] != a.words) continue;
    const size_t len = t.size() / a.words;
    for (size_t i = 0; i < t.size(); ++i) row_vbq[i / len] += bits_vbq[i], row_uniform[i / len] += bits_uniform[i];
  }
  double total_vbq = 0, total_uniform = 0, rare_vbq = 0, rare_uniform = 0;
  for (uint64_t w = 0; w < a.words; ++w) {
    BitBin& b = by_rank[rank_bins.index(double(w + 1))];
    ++b.count, b.vbq += row_vbq[w], b.uniform += row_uniform[w];
    total_vbq += row_vbq[w], total_uniform += row_uniform[w];
    if (w >= a.words / 2) rare_vbq += row_vbq[w], rare_uniform += row_uniform[w];
  }
  if (total_vbq > 0) a.vbq_rare_share = rare_vbq / total_vbq;
  if (total_uniform > 0) a.uniform_rare_share = rare_uniform / total_uniform;
  a.by_sigma = finish(by_sigma);
  if (total_vbq > 0 || total_uniform > 0) a.by_rank = finish(by_rank);
  return a;
}

void write_bit_allocation_csv(const std::string& path, const BitAllocation& a, bool force) {
  std::ostringstream out;
  out.precision(8);
  out << "# lambda " << a.lambda << ": vbq " << a.vbq_bytes << " bytes; uniform q_max " << a.q_max << ": "
      << a.uniform_bytes << " bytes; " << a.dimensions << " dimensions\n";
  if (a.words) out << "# share of row bits on the rarer half of " << a.words << " words: vbq " << a.vbq_rare_share
                   << ", uniform " << a.uniform_rare_share << "\n";
  out << "axis,lo,hi,count,vbq_bits,uniform_bits\n";
  for (const BitBin& b : a.by_sigma)
    out << "sigma_over_sigma0," << b.lo << "," << b.hi << "," << b.count << "," << b.vbq << "," << b.uniform << "\n";
  for (const BitBin& b : a.by_rank)
    out << "word_rank," << b.lo << "," << b.hi << "," << b.count << "," << b.vbq << "," << b.uniform << "\n";
  AtomicOutput file(path, force);
  const std::string text = out.str();
  file.write_all(text.data(), text.size());
  file.commit();
}

void plot_bit_allocation(const std::string& svg_path, const BitAllocation& a, const std::string& title) {
  ScratchDir dir;
  // Columns: bin centre, vbq bits, uniform bits, lo, hi, count.
  auto series = [&](const std::vector<BitBin>& bins, const std::string& name) {
    std::ofstream out(dir.file(name));
    out.precision(8);
    for (const BitBin& b : bins)
      out << std::sqrt(b.lo * b.hi) << "," << b.vbq << "," << b.uniform << "," << b.lo << "," << b.hi << "," << b.count
          << "\n";
    return dir.file(name);
  };
  char label[160];
  std::snprintf(label, sizeof label, "VBQ (lambda %.3g, %.3f bits/dim)", a.lambda, 8.0 * double(a.vbq_bytes) / double(a.dimensions));
  const std::string vbq_title = label;
  std::snprintf(label, sizeof label, "uniform+rANS (q_max %d, %.3f bits/dim)", a.q_max,
                8.0 * double(a.uniform_bytes) / double(a.dimensions));
  const std::string uniform_title = label;
  const bool ranks = !a.by_rank.empty();
  // The bars: how many coordinates (or words) each bin holds, on a log right axis,
  // so a reader sees which bins carry the model and which are a handful of outliers.
  auto panel = [&](const std::vector<BitBin>& bins, const std::string& file, const std::string& what, const std::string& vbq_label,
                   const std::string& uniform_label) {
    std::ostringstream p;
    double lo = 0, hi = 0;  // the bins' extent: log autoscale would pad to whole decades
    for (const BitBin& b : bins) lo = lo > 0 ? std::min(lo, b.lo) : b.lo, hi = std::max(hi, b.hi);
    if (hi > lo && lo > 0) p << "set xrange [" << lo << ":" << hi << "]\n";
    p << "set y2label '" << what << " per bin (grey bars, log scale)'\nset y2tics nomirror tc rgb 'gray40'\n"
      << "set logscale y2\nset y2range [0.8:*]\nset ytics nomirror\n"
      << "plot '" << file << "' using 1:6:4:5:(0.8):6 axes x1y2 with boxxyerror fs solid 0.3 noborder lc rgb 'gray55' "
      << "title '" << what << " per bin', "
      << "'' using 1:2 with linespoints lw 3 lc rgb '#d62728' pt 7 ps 0.7 title '" << vbq_label << "', "
      << "'' using 1:3 with linespoints lw 2 lc rgb '#000000' dt (10,5) pt 5 ps 0.6 title '" << uniform_label << "'\n";
    return p.str();
  };
  std::ostringstream gp;
  gp << "set datafile separator ','\nset grid\nset logscale x\nset key below noenhanced\n"
     << "set multiplot layout 1," << (ranks ? 2 : 1) << " title \"" << title << "\" noenhanced\n"
     << "set encoding utf8\nset xlabel 'posterior std / prior std (σ/σ_0)'\nset ylabel 'bits per coordinate'\n"
     << "set yrange [0:*]\n"
     << panel(a.by_sigma, series(a.by_sigma, "sigma.csv"), "coordinates", vbq_title, uniform_title);
  if (ranks) {
    char shares[160];
    std::snprintf(shares, sizeof shares, "rarer half of the words: %.0f%% of the VBQ bits, %.0f%% of the uniform bits",
                  100 * a.vbq_rare_share, 100 * a.uniform_rare_share);
    gp << "set xlabel 'word frequency rank'\nset ylabel 'bits per word (all tensors)'\n"
       << "set label 1 '" << shares << "' at graph 0.97, graph 0.6 right noenhanced\n"
       << panel(a.by_rank, series(a.by_rank, "rank.csv"), "words", "VBQ", "uniform+rANS");
  }
  gp << "unset multiplot\n";
  render_plot(svg_path, gp.str(), dir, ranks ? 1500 : 900, 620);
}

std::string bit_allocation_summary(const BitAllocation& a) {
  char buf[512];
  const double d = double(a.dimensions);
  std::snprintf(buf, sizeof buf,
                "VBQ lambda %.4g: %llu bytes, %.4f bits/dim; uniform+rANS q_max %d: %llu bytes, %.4f bits/dim\n",
                a.lambda, (unsigned long long)a.vbq_bytes, 8.0 * double(a.vbq_bytes) / d, a.q_max,
                (unsigned long long)a.uniform_bytes, 8.0 * double(a.uniform_bytes) / d);
  std::string s = buf;
  s += "sigma/sigma0 bin        coords   vbq bits  uniform bits\n";
  for (const BitBin& b : a.by_sigma) {
    std::snprintf(buf, sizeof buf, "[%8.4g, %8.4g) %10llu %10.3f %13.3f\n", b.lo, b.hi, (unsigned long long)b.count,
                  b.vbq, b.uniform);
    s += buf;
  }
  if (a.words) {
    std::snprintf(buf, sizeof buf, "rarer half of %llu words: %.1f%% of VBQ's row bits, %.1f%% of uniform's\n",
                  (unsigned long long)a.words, 100 * a.vbq_rare_share, 100 * a.uniform_rare_share);
    s += buf;
  }
  return s;
}

}  // namespace vbq
