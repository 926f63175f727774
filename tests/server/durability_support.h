// Shared pieces of the server durability tests (crash, disk-full, shutdown):
// parsing the JSON the server sends, a randomized /identify load client that
// records every acknowledged (200) response, reading back every contact, and
// the checks that what was acknowledged is still there and docs/api.md §1 holds.
//
// Checks return a list of problems (empty = fine) rather than asserting, so
// the tests decide how to report them and this library needs no GoogleTest.
//
// Thread-safety: free functions are thread-safe; a LoadClient runs on one
// thread, the shared LoadControl is atomic.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "testing/http_client.h"

namespace idrecon::testing {

// The "contact" object of a 200 from POST /identify.
struct IdentifyBody {
  std::uint32_t primary = 0;
  std::vector<std::string> emails;
  std::vector<std::string> phones;
  std::vector<std::uint32_t> secondaries;
};

// A GET /contacts/{id} row (docs/api.md §3).
struct ContactJson {
  std::uint32_t id = 0;
  std::optional<std::string> phone;
  std::optional<std::string> email;
  std::optional<std::uint32_t> linked;
  std::string precedence;
  std::string created_at;
  std::string updated_at;
  std::optional<std::string> deleted_at;

  std::string Describe() const;
};

bool ParseIdentifyBody(std::string_view body, IdentifyBody* out, std::string* error);
bool ParseContactBody(std::string_view body, ContactJson* out, std::string* error);
// {"error":"<non-empty>"} and nothing else.
bool ParseErrorBody(std::string_view body, std::string* message, std::string* error);
// {"status":"...", optionally "error":"..."}.
bool ParseHealthBody(std::string_view body, std::string* status, std::string* message, std::string* error);

// A JSON string literal for `value` (the load uses plain ASCII only).
std::string JsonString(std::string_view value);
std::string IdentifyJson(const std::optional<std::string>& email, const std::optional<std::string>& phone);

// One acknowledged /identify: what was asked and the 200 it got.
struct IdentifyAck {
  std::optional<std::string> email;
  std::optional<std::string> phone;
  IdentifyBody body;
};

// What a 200 showed about one contact: its values never change, and it stays
// in the cluster of `root_then` (clusters merge, never split).
struct ContactFact {
  std::uint32_t id = 0;
  std::optional<std::string> email;
  std::optional<std::string> phone;
  std::string created_at;  // empty when the ack did not show it
  std::uint32_t root_then = 0;
};

// Everything acknowledged so far, across server runs.
struct History {
  std::vector<IdentifyAck> acks;
  std::vector<ContactFact> facts;

  // The facts an identify ack proves on its own: a cluster with no
  // secondaries is one contact holding exactly the values listed.
  void AddAck(IdentifyAck ack);
  void AddContactRow(const ContactJson& row);
  std::uint32_t MaxAckedId() const;
};

// Shared by the load clients of one run.
struct LoadControl {
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> acked{0};     // 200s received, all clients
  std::atomic<std::uint32_t> max_id{0};    // highest contact id seen in a 200
};

// Values come in "people": person g owns emails p<g>e<k>@example.test and
// phones 555<g><k> (k < 3); most requests stay within one person, a few mix
// two people so clusters merge. Requests: 60% email+phone, 15% email only,
// 15% phone only, 10% GET /contacts/{id} near the highest id seen.
struct LoadOptions {
  std::uint32_t people = 2000;
  double cross_person = 0.03;
};

// One keep-alive client. Run() sends requests until control.stop is set or
// the server goes away (a failed connect or an unanswered request ends it;
// "Connection: close" just reconnects). Every 200 is recorded; any status
// other than 200 (or 404 for a GET) is recorded as a problem.
class LoadClient {
 public:
  LoadClient(std::uint16_t port, std::uint64_t seed, LoadControl& control, LoadOptions options = {})
      : port_(port), rng_(seed), control_(control), options_(options) {}

  void Run();

  std::vector<IdentifyAck> acks;
  std::vector<ContactJson> rows;  // 200s from GET /contacts/{id}
  std::vector<std::string> problems;
  std::uint64_t sent = 0;        // requests written (or attempted)
  std::uint64_t unanswered = 0;  // sent on an open connection, no full answer
  bool refused = false;          // ended because a new connection was refused

 private:
  std::string Email(std::uint32_t person, std::uint32_t k) const;
  std::string Phone(std::uint32_t person, std::uint32_t k) const;
  void NoteFailure(const Client& client);

  std::uint16_t port_;
  std::mt19937_64 rng_;
  LoadControl& control_;
  LoadOptions options_;
};

// Runs `clients` LoadClients on their own threads (client i seeded with
// seed + i). Stop() (also run by the destructor) sets control.stop and joins
// them; each ends within one I/O timeout even if the server hangs.
class LoadDriver {
 public:
  LoadDriver(std::uint16_t port, unsigned clients, std::uint64_t seed, LoadOptions options = {});
  ~LoadDriver();
  LoadDriver(const LoadDriver&) = delete;
  LoadDriver& operator=(const LoadDriver&) = delete;

  // Polls until `count` responses were acknowledged; false at the deadline
  // or when every client has ended.
  bool WaitForAcks(std::uint64_t count, Clock::duration timeout);
  void Stop();

  LoadControl control;
  std::vector<std::unique_ptr<LoadClient>> clients;

 private:
  std::vector<std::thread> threads_;
  std::atomic<unsigned> running_{0};
};

// GETs /contacts/1, 2, ... over `connections` parallel connections until the
// first 404; returns them in id order. False (with a message) if the server
// failed to answer or answered something else than 200/404. A 200 past the
// first 404 (a gap in the ids) is reported in `problems`.
bool FetchAllContacts(std::uint16_t port, unsigned connections, std::vector<ContactJson>* out,
                      std::vector<std::string>* problems, std::string* error);

// docs/api.md §1 over a complete table (contacts[i].id == i + 1).
std::vector<std::string> CheckInvariants(const std::vector<ContactJson>& contacts);

// Every acknowledged identify's primary, secondaries, emails and phones are
// still in one cluster; every fact's contact still holds the same values
// and creation time, and is still in the cluster of the contact it was with.
std::vector<std::string> CheckHistory(const std::vector<ContactJson>& contacts, const History& history);

// Asks the server, by POST /identify with each distinct email and phone of
// the table, for its cluster, and compares primary, secondaries, emails and
// phones with what the table says (so the recovered index agrees with the
// recovered rows). Uses `connections` parallel connections.
std::vector<std::string> CheckServerAgreesWithTable(std::uint16_t port, unsigned connections,
                                                    const std::vector<ContactJson>& contacts);

// FetchAllContacts, then CheckInvariants, CheckHistory and
// CheckServerAgreesWithTable; every problem found, and the table in
// `contacts`.
std::vector<std::string> VerifyServer(std::uint16_t port, const History& history, std::vector<ContactJson>* contacts);

// At most `limit` problems, one per line, with a count of the rest.
std::string FormatProblems(const std::vector<std::string>& problems, std::size_t limit = 20);

}  // namespace idrecon::testing
