#include "bench/load/workload.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "bench/value_names.h"

namespace idrecon::load {

namespace {

using bench::kDomains;
using bench::kFirstNames;
using bench::kLastNames;
using bench::Mix64;

std::string Base36(std::uint64_t n) {
  std::string s;
  do {
    s.push_back("0123456789abcdefghijklmnopqrstuvwxyz"[n % 36]);
    n /= 36;
  } while (n != 0);
  return s;
}

}  // namespace

bool Mix::Parse(const std::string& spec, Mix* out) {
  Mix m{0, 0, 0, 0, 0, 0};
  std::stringstream ss(spec);
  std::string item;
  while (std::getline(ss, item, ',')) {
    const auto eq = item.find('=');
    if (eq == std::string::npos) return false;
    const std::string key = item.substr(0, eq);
    char* end = nullptr;
    const std::string value = item.substr(eq + 1);
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0' || !(v >= 0)) return false;
    if (key == "repeat") m.repeat = v;
    else if (key == "new") m.add_new = v;
    else if (key == "add") m.add_value = v;
    else if (key == "join") m.join = v;
    else if (key == "wildjoin") m.wild_join = v;
    else if (key == "junk") m.junk = v;
    else return false;
  }
  if (m.total() <= 0) return false;
  *out = m;
  return true;
}

const char* KindName(RequestKind kind) {
  switch (kind) {
    case RequestKind::kRepeat: return "repeat";
    case RequestKind::kNew: return "new";
    case RequestKind::kAdd: return "add";
    case RequestKind::kJoin: return "join";
    case RequestKind::kWildJoin: return "wildjoin";
    case RequestKind::kJunk: return "junk";
  }
  return "?";
}

// Rejection-inversion (as in Apache Commons RejectionInversionZipfSampler).
double ZipfSampler::h(double x) const { return std::exp(-s_ * std::log(x)); }
double ZipfSampler::H(double x) const {
  const double log_x = std::log(x);
  const double t = (1.0 - s_) * log_x;
  // (exp(t) - 1) / (1 - s) computed stably; → log(x) as s → 1.
  const double helper = std::abs(t) > 1e-8 ? std::expm1(t) / t : 1.0 + t / 2.0 * (1.0 + t / 3.0 * (1.0 + t / 4.0));
  return helper * log_x;
}
double ZipfSampler::HInverse(double x) const {
  double t = x * (1.0 - s_);
  if (t < -1.0) t = -1.0;
  const double helper = std::abs(t) > 1e-8 ? std::log1p(t) / t : 1.0 - t * (0.5 - t * (1.0 / 3.0 - t * 0.25));
  return std::exp(helper * x);
}

std::uint64_t ZipfSampler::Sample(std::uint64_t n, std::mt19937_64& rng) const {
  if (n <= 1) return 1;
  const double nd = static_cast<double>(n);
  const double h_x1 = H(1.5) - 1.0;
  const double h_n = H(nd + 0.5);
  const double s_const = 2.0 - HInverse(H(2.5) - h(2.0));
  std::uniform_real_distribution<double> uni(0.0, 1.0);
  for (;;) {
    const double u = h_n + uni(rng) * (h_x1 - h_n);
    const double x = HInverse(u);
    double k = std::floor(x + 0.5);
    if (k < 1) k = 1;
    if (k > nd) k = nd;
    if (k - x <= s_const || u >= H(k + 0.5) - h(k)) return static_cast<std::uint64_t>(k);
  }
}

Workload::Workload(const Options& options) : options_(options), rng_(options.seed), zipf_(options.zipf_exponent) {
  // Values are numbered from a seed-dependent base (one of 9 blocks of 10^9,
  // so phones keep 10 digits) so runs with different seeds rarely collide.
  next_value_ = (Mix64(options.seed) % 9) * 1000000000ULL;
}

std::string Workload::EmailFor(std::uint64_t n) {
  const std::uint64_t h = Mix64(n);
  std::string s = kFirstNames[h & 15];
  s += '.';
  s += kLastNames[(h >> 4) & 15];
  s += Base36(n);
  s += '@';
  s += kDomains[(h >> 8) & 7];
  return s;
}

std::string Workload::PhoneFor(std::uint64_t n) {
  // "+1" and 10 digits for n < 10^10 (longer beyond; still distinct).
  std::string digits = std::to_string(n);
  if (digits.size() < 10) digits.insert(0, 10 - digits.size(), '0');
  return "+1" + digits;
}

const std::vector<std::string>& Workload::JunkPhones() {
  // PhoneFor's phones all start with "+1"; these do not, so a junk phone is
  // never also a customer's real one.
  static const std::vector<std::string> phones = {"0000000000", "1234567890", "+0000000000"};
  return phones;
}

std::string Workload::Body(const std::string& email, const std::string& phone) {
  std::string b = "{";
  if (!email.empty()) b += "\"email\":\"" + email + "\"";
  if (!phone.empty()) {
    if (!email.empty()) b += ',';
    b += "\"phoneNumber\":\"" + phone + "\"";
  }
  b += '}';
  return b;
}

std::uint32_t Workload::Find(std::uint32_t c) {
  while (customers_[c].root != c) {
    customers_[c].root = customers_[customers_[c].root].root;
    c = customers_[c].root;
  }
  return c;
}

std::uint32_t Workload::PickUniform() {
  std::uniform_int_distribution<std::size_t> d(0, customers_.size() - 1);
  return Find(static_cast<std::uint32_t>(d(rng_)));
}

GeneratedRequest Workload::NextNewCustomer() {
  GeneratedRequest r;
  r.kind = RequestKind::kNew;
  const std::uint64_t n = next_value_++;
  r.email = EmailFor(n);
  r.phone = PhoneFor(n);
  const auto id = static_cast<std::uint32_t>(customers_.size());
  customers_.push_back(Customer{id, {r.email}, {r.phone}});
  ++roots_count_;
  r.body = Body(r.email, r.phone);
  return r;
}

GeneratedRequest Workload::Repeat() {
  GeneratedRequest r;
  r.kind = RequestKind::kRepeat;
  const std::uint64_t rank = zipf_.Sample(customers_.size(), rng_);
  const Customer& c = customers_[Find(static_cast<std::uint32_t>(rank - 1))];
  const int which = static_cast<int>(rng_() % 3);  // 0: both, 1: email only, 2: phone only
  if (which != 2 && !c.emails.empty()) r.email = c.emails[rng_() % c.emails.size()];
  if (which != 1 && !c.phones.empty()) r.phone = c.phones[rng_() % c.phones.size()];
  if (r.email.empty() && r.phone.empty()) r.email = c.emails.empty() ? "" : c.emails[0];
  if (r.email.empty() && r.phone.empty()) r.phone = c.phones[0];
  r.body = Body(r.email, r.phone);
  return r;
}

GeneratedRequest Workload::Add() {
  const std::uint32_t id = PickUniform();
  Customer& c = customers_[id];
  if (c.emails.size() + c.phones.size() >= options_.max_cluster) return Repeat();
  GeneratedRequest r;
  r.kind = RequestKind::kAdd;
  const std::uint64_t n = next_value_++;
  if (rng_() % 2 == 0) {
    r.email = EmailFor(n);
    r.phone = c.phones[rng_() % c.phones.size()];
    c.emails.push_back(r.email);
  } else {
    r.phone = PhoneFor(n);
    r.email = c.emails[rng_() % c.emails.size()];
    c.phones.push_back(r.phone);
  }
  r.body = Body(r.email, r.phone);
  return r;
}

GeneratedRequest Workload::Join() {
  for (int attempt = 0; attempt < 4; ++attempt) {
    const std::uint32_t a = PickUniform(), b = PickUniform();
    if (a == b) continue;
    Customer& ca = customers_[a];
    Customer& cb = customers_[b];
    if (ca.emails.size() + ca.phones.size() + cb.emails.size() + cb.phones.size() > options_.max_cluster) continue;
    GeneratedRequest r;
    r.kind = RequestKind::kJoin;
    r.email = ca.emails[rng_() % ca.emails.size()];
    r.phone = cb.phones[rng_() % cb.phones.size()];
    // b's values now belong to a.
    ca.emails.insert(ca.emails.end(), cb.emails.begin(), cb.emails.end());
    ca.phones.insert(ca.phones.end(), cb.phones.begin(), cb.phones.end());
    cb.emails.clear();
    cb.phones.clear();
    cb.emails.shrink_to_fit();
    cb.phones.shrink_to_fit();
    cb.root = a;
    --roots_count_;
    r.body = Body(r.email, r.phone);
    return r;
  }
  return Repeat();
}

GeneratedRequest Workload::WildJoin() {
  for (int attempt = 0; attempt < 4; ++attempt) {
    const std::uint32_t a = PickUniform(), b = PickUniform();
    if (a == b) continue;
    GeneratedRequest r;
    r.kind = RequestKind::kWildJoin;
    const Customer& ca = customers_[a];
    const Customer& cb = customers_[b];
    r.email = ca.emails[rng_() % ca.emails.size()];
    r.phone = cb.phones[rng_() % cb.phones.size()];
    r.body = Body(r.email, r.phone);
    return r;
  }
  return Repeat();
}

GeneratedRequest Workload::Junk() {
  const Customer& c = customers_[PickUniform()];
  GeneratedRequest r;
  r.kind = RequestKind::kJunk;
  r.email = c.emails[rng_() % c.emails.size()];
  r.phone = JunkPhones()[rng_() % JunkPhones().size()];
  r.body = Body(r.email, r.phone);
  return r;
}

GeneratedRequest Workload::Next() {
  if (customers_.empty()) return NextNewCustomer();
  const Mix& m = options_.mix;
  std::uniform_real_distribution<double> d(0.0, m.total());
  double x = d(rng_);
  if ((x -= m.repeat) < 0) return Repeat();
  if ((x -= m.add_new) < 0) return NextNewCustomer();
  if ((x -= m.add_value) < 0) return Add();
  if ((x -= m.join) < 0) return Join();
  if ((x -= m.wild_join) < 0) return WildJoin();
  return Junk();
}

}  // namespace idrecon::load
