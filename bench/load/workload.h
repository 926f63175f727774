// Workload: a seeded generator of /identify requests over a model of the
// customers the server should know.
//
// Each customer owns some emails and phone numbers (generated, realistic
// lengths: emails ~24 bytes, phones 12). Request kinds (the mix is in
// percent and configurable):
//   repeat  — an existing customer, chosen with Zipf-skewed popularity (most
//             popular = the oldest customers); sends one of its emails and/or
//             one of its phones (both, email only, or phone only).
//   new     — a new customer: a fresh email and a fresh phone.
//   add     — an existing customer (uniform) gets a new email or a new phone;
//             the request carries it with one of the customer's known values
//             of the other kind, so the server creates a secondary.
//   join    — two existing customers (uniform) are the same person: one's
//             email with the other's phone; the server merges the clusters.
// `add` and `join` keep clusters at most max_cluster values; a request that
// cannot respect that falls back to `repeat`.
// Two kinds model bad data, for the guard scenarios (bench/guard.sh):
//   wildjoin — like `join` but without the max_cluster limit: two customers
//             (uniform, distinct in the model) joined by one's email and the
//             other's phone, as a mistyped value does, so clusters grow
//             without bound on a server that merges everything.
//   junk    — an existing customer's email (uniform) with one of
//             JunkPhones(), the placeholders shops type into a required
//             phone field; on an unguarded server every customer this hits
//             ends up in one cluster.
// Neither changes the model: the server may merge (unguarded), refuse (409)
// or drop values (guarded), and the generator cannot know which without
// reading answers. Every request it sends stays valid either way, because
// it only ever sends values the server has been given.
//
// The response check (response_check.h) only needs the request's own values
// to be in the returned cluster, which holds whatever order concurrent
// connections deliver requests in.
//
// Deterministic: the same seed and the same sequence of Next() calls give the
// same requests. Thread-safety: none (the load client serialises calls).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace idrecon::load {

struct Mix {
  double repeat = 80, add_new = 15, add_value = 4, join = 1, wild_join = 0, junk = 0;
  // Parses "repeat=80,new=15,add=4,join=1" (keys repeat, new, add, join,
  // wildjoin, junk; any subset, the others become 0). Returns false on a bad
  // spec or when all are 0.
  static bool Parse(const std::string& spec, Mix* out);
  double total() const { return repeat + add_new + add_value + join + wild_join + junk; }
};

enum class RequestKind { kRepeat, kNew, kAdd, kJoin, kWildJoin, kJunk };
const char* KindName(RequestKind kind);

struct GeneratedRequest {
  RequestKind kind = RequestKind::kNew;
  std::string email;  // empty = absent
  std::string phone;  // empty = absent
  std::string body;   // the JSON body
};

// Zipf(s) over ranks 1..n by rejection-inversion (Hörmann & Derflinger 1996),
// O(1) per sample with n allowed to change between samples.
class ZipfSampler {
 public:
  explicit ZipfSampler(double exponent) : s_(exponent) {}
  // A rank in [1, n]; n >= 1.
  std::uint64_t Sample(std::uint64_t n, std::mt19937_64& rng) const;

 private:
  double H(double x) const;
  double HInverse(double x) const;
  double h(double x) const;
  double s_;
};

class Workload {
 public:
  struct Options {
    std::uint64_t seed = 1;
    Mix mix;
    double zipf_exponent = 0.99;
    unsigned max_cluster = 20;  // values per customer, at most
  };
  explicit Workload(const Options& options);

  // The next request of the mix (a `new` one when no customer exists yet).
  GeneratedRequest Next();
  // A `new` customer request (for --preload).
  GeneratedRequest NextNewCustomer();

  std::size_t customers() const { return roots_count_; }

  // Value generators (exposed for tests): unique for distinct n.
  static std::string EmailFor(std::uint64_t n);
  static std::string PhoneFor(std::uint64_t n);
  // The phones `junk` requests carry; none is ever a PhoneFor(n).
  static const std::vector<std::string>& JunkPhones();

 private:
  struct Customer {
    std::uint32_t root;  // union-find parent (self = a live customer)
    std::vector<std::string> emails;
    std::vector<std::string> phones;
  };
  std::uint32_t Find(std::uint32_t c);
  std::uint32_t PickUniform();
  GeneratedRequest Repeat();
  GeneratedRequest Add();
  GeneratedRequest Join();
  GeneratedRequest WildJoin();
  GeneratedRequest Junk();
  static std::string Body(const std::string& email, const std::string& phone);

  Options options_;
  std::mt19937_64 rng_;
  ZipfSampler zipf_;
  std::vector<Customer> customers_;
  std::size_t roots_count_ = 0;
  std::uint64_t next_value_ = 0;
};

}  // namespace idrecon::load
