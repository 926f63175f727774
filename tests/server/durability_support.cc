#include "tests/server/durability_support.h"

#include <simdjson.h>

#include <algorithm>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <utility>

namespace idrecon::testing {
namespace {

namespace dom = simdjson::dom;

// Enough to see what went wrong without drowning the log.
constexpr std::size_t kMaxProblems = 1000;

void AddProblem(std::vector<std::string>* problems, std::string problem) {
  if (problems->size() < kMaxProblems) problems->push_back(std::move(problem));
}

dom::parser& Parser() {
  thread_local dom::parser parser;
  return parser;
}

bool Parse(std::string_view body, dom::element* doc, std::string* error) {
  if (const auto code = Parser().parse(body.data(), body.size()).get(*doc); code != simdjson::SUCCESS) {
    *error = std::string("not JSON (") + simdjson::error_message(code) + "): " + std::string(body);
    return false;
  }
  return true;
}

bool GetUint32(dom::object object, const char* key, std::uint32_t* out, std::string* error) {
  std::uint64_t value = 0;
  if (object[key].get_uint64().get(value) != simdjson::SUCCESS || value == 0 ||
      value > std::numeric_limits<std::uint32_t>::max()) {
    *error = std::string("field ") + key + " is not a positive integer id";
    return false;
  }
  *out = static_cast<std::uint32_t>(value);
  return true;
}

bool GetString(dom::object object, const char* key, std::string* out, std::string* error) {
  std::string_view value;
  if (object[key].get_string().get(value) != simdjson::SUCCESS) {
    *error = std::string("field ") + key + " is not a string";
    return false;
  }
  *out = std::string(value);
  return true;
}

bool GetNullableString(dom::object object, const char* key, std::optional<std::string>* out, std::string* error) {
  dom::element element;
  if (object[key].get(element) != simdjson::SUCCESS) {
    *error = std::string("field ") + key + " is missing";
    return false;
  }
  if (element.is_null()) {
    out->reset();
    return true;
  }
  std::string_view value;
  if (element.get_string().get(value) != simdjson::SUCCESS) {
    *error = std::string("field ") + key + " is neither a string nor null";
    return false;
  }
  *out = std::string(value);
  return true;
}

bool GetStringArray(dom::object object, const char* key, std::vector<std::string>* out, std::string* error) {
  dom::array array;
  if (object[key].get_array().get(array) != simdjson::SUCCESS) {
    *error = std::string("field ") + key + " is not an array";
    return false;
  }
  out->clear();
  for (dom::element element : array) {
    std::string_view value;
    if (element.get_string().get(value) != simdjson::SUCCESS) {
      *error = std::string("field ") + key + " holds a non-string";
      return false;
    }
    out->emplace_back(value);
  }
  return true;
}

std::string Quote(const std::optional<std::string>& value) { return value ? "\"" + *value + "\"" : "null"; }

}  // namespace

std::string ContactJson::Describe() const {
  return "{id " + std::to_string(id) + ", email " + Quote(email) + ", phone " + Quote(phone) + ", linkedId " +
         (linked ? std::to_string(*linked) : "null") + ", " + precedence + ", createdAt " + created_at + "}";
}

bool ParseIdentifyBody(std::string_view body, IdentifyBody* out, std::string* error) {
  dom::element doc;
  if (!Parse(body, &doc, error)) return false;
  dom::object contact;
  if (doc["contact"].get_object().get(contact) != simdjson::SUCCESS) {
    *error = "no \"contact\" object in " + std::string(body);
    return false;
  }
  std::uint32_t misspelt = 0;
  if (!GetUint32(contact, "primaryContatctId", &misspelt, error) ||
      !GetUint32(contact, "primaryContactId", &out->primary, error) ||
      !GetStringArray(contact, "emails", &out->emails, error) ||
      !GetStringArray(contact, "phoneNumbers", &out->phones, error)) {
    *error += " in " + std::string(body);
    return false;
  }
  if (misspelt != out->primary) {
    *error = "primaryContatctId differs from primaryContactId in " + std::string(body);
    return false;
  }
  dom::array secondaries;
  if (contact["secondaryContactIds"].get_array().get(secondaries) != simdjson::SUCCESS) {
    *error = "secondaryContactIds is not an array in " + std::string(body);
    return false;
  }
  out->secondaries.clear();
  for (dom::element element : secondaries) {
    std::uint64_t id = 0;
    if (element.get_uint64().get(id) != simdjson::SUCCESS || id == 0 || id > std::numeric_limits<std::uint32_t>::max()) {
      *error = "a secondary id is not a positive integer in " + std::string(body);
      return false;
    }
    out->secondaries.push_back(static_cast<std::uint32_t>(id));
  }
  return true;
}

bool ParseContactBody(std::string_view body, ContactJson* out, std::string* error) {
  dom::element doc;
  if (!Parse(body, &doc, error)) return false;
  dom::object row;
  if (doc.get_object().get(row) != simdjson::SUCCESS || row.size() != 8) {
    *error = "not an object with exactly the eight fields of docs/api.md §1: " + std::string(body);
    return false;
  }
  dom::element linked;
  if (!GetUint32(row, "id", &out->id, error) || !GetNullableString(row, "phoneNumber", &out->phone, error) ||
      !GetNullableString(row, "email", &out->email, error) ||
      !GetString(row, "linkPrecedence", &out->precedence, error) ||
      !GetString(row, "createdAt", &out->created_at, error) ||
      !GetString(row, "updatedAt", &out->updated_at, error) ||
      !GetNullableString(row, "deletedAt", &out->deleted_at, error) ||
      row["linkedId"].get(linked) != simdjson::SUCCESS) {
    *error += " in " + std::string(body);
    return false;
  }
  if (linked.is_null()) {
    out->linked.reset();
  } else {
    std::uint32_t id = 0;
    if (!GetUint32(row, "linkedId", &id, error)) {
      *error += " in " + std::string(body);
      return false;
    }
    out->linked = id;
  }
  return true;
}

bool ParseErrorBody(std::string_view body, std::string* message, std::string* error) {
  dom::element doc;
  if (!Parse(body, &doc, error)) return false;
  dom::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS || object.size() != 1 ||
      !GetString(object, "error", message, error) || message->empty()) {
    *error = "not {\"error\": \"<message>\"}: " + std::string(body);
    return false;
  }
  return true;
}

bool ParseHealthBody(std::string_view body, std::string* status, std::string* message, std::string* error) {
  dom::element doc;
  if (!Parse(body, &doc, error)) return false;
  dom::object object;
  if (doc.get_object().get(object) != simdjson::SUCCESS || !GetString(object, "status", status, error)) {
    *error = "no \"status\" string in " + std::string(body);
    return false;
  }
  message->clear();
  std::string_view text;
  if (object["error"].get_string().get(text) == simdjson::SUCCESS) *message = std::string(text);
  return true;
}

std::string JsonString(std::string_view value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string IdentifyJson(const std::optional<std::string>& email, const std::optional<std::string>& phone) {
  std::string body = "{";
  if (email) body += "\"email\":" + JsonString(*email);
  if (email && phone) body += ",";
  if (phone) body += "\"phoneNumber\":" + JsonString(*phone);
  return body + "}";
}

void History::AddAck(IdentifyAck ack) {
  if (ack.body.secondaries.empty()) {
    ContactFact fact;
    fact.id = ack.body.primary;
    if (!ack.body.emails.empty()) fact.email = ack.body.emails.front();
    if (!ack.body.phones.empty()) fact.phone = ack.body.phones.front();
    fact.root_then = ack.body.primary;
    facts.push_back(std::move(fact));
  }
  acks.push_back(std::move(ack));
}

void History::AddContactRow(const ContactJson& row) {
  ContactFact fact;
  fact.id = row.id;
  fact.email = row.email;
  fact.phone = row.phone;
  fact.created_at = row.created_at;
  fact.root_then = row.linked.value_or(row.id);
  facts.push_back(std::move(fact));
}

std::uint32_t History::MaxAckedId() const {
  std::uint32_t max = 0;
  for (const IdentifyAck& ack : acks) {
    max = std::max(max, ack.body.primary);
    for (std::uint32_t id : ack.body.secondaries) max = std::max(max, id);
  }
  for (const ContactFact& fact : facts) max = std::max(max, fact.id);
  return max;
}

std::string LoadClient::Email(std::uint32_t person, std::uint32_t k) const {
  return "p" + std::to_string(person) + "e" + std::to_string(k) + "@example.test";
}

std::string LoadClient::Phone(std::uint32_t person, std::uint32_t k) const {
  return "555" + std::to_string(person) + "0" + std::to_string(k);
}

void LoadClient::NoteFailure(const Client& client) {
  if (client.last_connect_failed()) {
    refused = true;
    --sent;
  } else {
    ++unanswered;
  }
}

void LoadClient::Run() {
  Client client(port_);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  auto note_id = [this](std::uint32_t id) {
    std::uint32_t seen = control_.max_id.load();
    while (id > seen && !control_.max_id.compare_exchange_weak(seen, id)) {
    }
  };
  while (!control_.stop.load(std::memory_order_relaxed)) {
    const double kind = unit(rng_);
    if (kind < 0.10) {
      const std::uint32_t max_before = control_.max_id.load();
      const std::uint32_t id = 1 + static_cast<std::uint32_t>(rng_() % (std::uint64_t{max_before} + 3));
      ++sent;
      const std::optional<Response> response = client.GetPath("/contacts/" + std::to_string(id));
      if (!response) {
        NoteFailure(client);
        break;
      }
      if (response->status == 200) {
        ContactJson row;
        std::string error;
        if (!ParseContactBody(response->body, &row, &error)) {
          AddProblem(&problems, "GET /contacts/" + std::to_string(id) + ": " + error);
        } else if (row.id != id) {
          AddProblem(&problems, "GET /contacts/" + std::to_string(id) + " returned " + row.Describe());
        } else {
          rows.push_back(std::move(row));
          control_.acked.fetch_add(1);
        }
      } else if (response->status == 404) {
        // Ids are committed in order, so every id up to one already
        // acknowledged is durable and must be found.
        if (id <= max_before) {
          AddProblem(&problems, "GET /contacts/" + std::to_string(id) + " got 404 although id " +
                                    std::to_string(max_before) + " was already acknowledged");
        }
      } else {
        AddProblem(&problems, "GET /contacts/" + std::to_string(id) + ": unexpected " + response->status_line + " " +
                                  response->body);
      }
      continue;
    }
    const auto person = static_cast<std::uint32_t>(rng_() % options_.people);
    const auto phone_person =
        unit(rng_) < options_.cross_person ? static_cast<std::uint32_t>(rng_() % options_.people) : person;
    std::optional<std::string> email = Email(person, static_cast<std::uint32_t>(rng_() % 3));
    std::optional<std::string> phone = Phone(phone_person, static_cast<std::uint32_t>(rng_() % 3));
    if (kind >= 0.70 && kind < 0.85) phone.reset();
    if (kind >= 0.85) email.reset();
    const std::string body = IdentifyJson(email, phone);
    ++sent;
    const std::optional<Response> response = client.PostJson("/identify", body);
    if (!response) {
      NoteFailure(client);
      break;
    }
    if (response->status != 200) {
      AddProblem(&problems, "POST /identify " + body + ": unexpected " + response->status_line + " " + response->body);
      continue;
    }
    IdentifyAck ack;
    ack.email = email;
    ack.phone = phone;
    std::string error;
    if (!ParseIdentifyBody(response->body, &ack.body, &error)) {
      AddProblem(&problems, "POST /identify " + body + ": " + error);
      continue;
    }
    const auto& emails = ack.body.emails;
    const auto& phones = ack.body.phones;
    if ((email && std::find(emails.begin(), emails.end(), *email) == emails.end()) ||
        (phone && std::find(phones.begin(), phones.end(), *phone) == phones.end())) {
      AddProblem(&problems, "POST /identify " + body + ": the response lacks the request's values: " + response->body);
    }
    note_id(ack.body.primary);
    for (std::uint32_t id : ack.body.secondaries) note_id(id);
    acks.push_back(std::move(ack));
    control_.acked.fetch_add(1);
  }
}

LoadDriver::LoadDriver(std::uint16_t port, unsigned clients_wanted, std::uint64_t seed, LoadOptions options) {
  for (unsigned i = 0; i < clients_wanted; ++i) {
    clients.push_back(std::make_unique<LoadClient>(port, seed + i, control, options));
  }
  running_ = clients_wanted;
  for (auto& client : clients) {
    threads_.emplace_back([this, c = client.get()] {
      c->Run();
      running_.fetch_sub(1);
    });
  }
}

LoadDriver::~LoadDriver() { Stop(); }

bool LoadDriver::WaitForAcks(std::uint64_t count, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  while (control.acked.load() < count) {
    if (Clock::now() >= deadline || running_.load() == 0) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

void LoadDriver::Stop() {
  control.stop = true;
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

bool FetchAllContacts(std::uint16_t port, unsigned connections, std::vector<ContactJson>* out,
                      std::vector<std::string>* problems, std::string* error) {
  std::atomic<std::uint32_t> next{1};
  std::atomic<std::uint32_t> first_missing{std::numeric_limits<std::uint32_t>::max()};
  std::mutex mu;
  std::map<std::uint32_t, ContactJson> found;  // guarded by mu
  std::string failure;                          // guarded by mu
  auto worker = [&] {
    Client client(port);
    while (true) {
      const std::uint32_t id = next.fetch_add(1);
      if (id >= first_missing.load()) return;
      const std::optional<Response> response = client.GetPath("/contacts/" + std::to_string(id));
      std::lock_guard lock(mu);
      if (!response) {
        failure = "no answer to GET /contacts/" + std::to_string(id);
        first_missing = 0;
        return;
      }
      if (response->status == 404) {
        std::uint32_t seen = first_missing.load();
        while (id < seen && !first_missing.compare_exchange_weak(seen, id)) {
        }
        continue;
      }
      ContactJson row;
      std::string parse_error;
      if (response->status != 200 || !ParseContactBody(response->body, &row, &parse_error) || row.id != id) {
        failure = "GET /contacts/" + std::to_string(id) + ": " + response->status_line + " " + response->body + " " +
                  parse_error;
        first_missing = 0;
        return;
      }
      found.emplace(id, std::move(row));
    }
  };
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < std::max(1u, connections); ++i) threads.emplace_back(worker);
  for (std::thread& thread : threads) thread.join();
  if (!failure.empty()) {
    *error = failure;
    return false;
  }
  const std::uint32_t end = first_missing.load();
  out->clear();
  for (auto& [id, row] : found) {
    if (id < end) {
      out->push_back(std::move(row));
    } else {
      AddProblem(problems, "GET /contacts/" + std::to_string(end) + " is 404 but id " + std::to_string(id) +
                               " exists (a gap in the ids)");
    }
  }
  return true;
}

namespace {

// The primary of `id`'s cluster per the table (0 if `id` is not a contact).
std::uint32_t RootOf(const std::vector<ContactJson>& contacts, std::uint32_t id) {
  if (id == 0 || id > contacts.size()) return 0;
  // Follow linkedId to the root (bounded), so a chain (itself a violation,
  // reported by CheckInvariants) still yields one answer.
  std::uint32_t current = id;
  for (std::size_t steps = 0; steps <= contacts.size(); ++steps) {
    const ContactJson& row = contacts[current - 1];
    if (!row.linked) return current;
    if (*row.linked == 0 || *row.linked > contacts.size()) return 0;
    current = *row.linked;
  }
  return 0;  // a cycle
}

struct ValueRoots {
  std::map<std::string, std::uint32_t> email;
  std::map<std::string, std::uint32_t> phone;
};

ValueRoots MapValues(const std::vector<ContactJson>& contacts) {
  ValueRoots roots;
  for (const ContactJson& c : contacts) {
    const std::uint32_t root = RootOf(contacts, c.id);
    if (c.email) roots.email.emplace(*c.email, root);
    if (c.phone) roots.phone.emplace(*c.phone, root);
  }
  return roots;
}

}  // namespace

std::vector<std::string> CheckInvariants(const std::vector<ContactJson>& contacts) {
  std::vector<std::string> problems;
  const auto n = contacts.size();
  auto ts_ok = [](const std::string& t) { return t.size() == 24 && t[10] == 'T' && t[19] == '.' && t.back() == 'Z'; };
  for (std::size_t i = 0; i < n; ++i) {
    const ContactJson& c = contacts[i];
    const std::string who = c.Describe();
    if (c.id != i + 1) AddProblem(&problems, "row " + std::to_string(i + 1) + " has id " + std::to_string(c.id));
    if (!c.email && !c.phone) AddProblem(&problems, who + ": neither email nor phone");
    if (c.deleted_at) AddProblem(&problems, who + ": deletedAt is set although nothing deletes");
    if (!ts_ok(c.created_at) || !ts_ok(c.updated_at)) AddProblem(&problems, who + ": malformed timestamp");
    if (c.updated_at < c.created_at) AddProblem(&problems, who + ": updatedAt before createdAt");
    if (i > 0 && c.created_at < contacts[i - 1].created_at) {
      AddProblem(&problems, who + ": createdAt decreases from id " + std::to_string(i));
    }
    if (c.precedence == "primary") {
      if (c.linked) AddProblem(&problems, who + ": a primary with a linkedId");
    } else if (c.precedence == "secondary") {
      if (!c.linked || *c.linked == 0 || *c.linked > n) {
        AddProblem(&problems, who + ": a secondary without a valid linkedId (invariant 1)");
        continue;
      }
      const ContactJson& p = contacts[*c.linked - 1];
      if (p.precedence != "primary") {
        AddProblem(&problems, who + ": linkedId points at a non-primary " + p.Describe() + " (invariant 3)");
      }
      if (std::tie(p.created_at, p.id) >= std::tie(c.created_at, c.id)) {
        AddProblem(&problems, who + ": older than its primary " + p.Describe() + " (invariant 2)");
      }
    } else {
      AddProblem(&problems, who + ": linkPrecedence is neither primary nor secondary");
    }
  }
  // Invariant 4: one cluster per value.
  std::map<std::string, std::uint32_t> email_root, phone_root;
  for (const ContactJson& c : contacts) {
    const std::uint32_t root = RootOf(contacts, c.id);
    for (auto [value, map, kind] : {std::tuple{&c.email, &email_root, "email"}, std::tuple{&c.phone, &phone_root, "phone"}}) {
      if (!*value) continue;
      const auto [it, inserted] = map->emplace(**value, root);
      if (!inserted && it->second != root) {
        AddProblem(&problems, std::string(kind) + " " + **value + " is in the clusters of " + std::to_string(it->second) +
                                  " and " + std::to_string(root) + " (invariant 4)");
      }
    }
  }
  return problems;
}

std::vector<std::string> CheckHistory(const std::vector<ContactJson>& contacts, const History& history) {
  std::vector<std::string> problems;
  const ValueRoots roots = MapValues(contacts);
  for (const IdentifyAck& ack : history.acks) {
    const IdentifyBody& body = ack.body;
    const std::string what = "acknowledged identify " + IdentifyJson(ack.email, ack.phone) + " -> primary " +
                             std::to_string(body.primary);
    const std::uint32_t root = RootOf(contacts, body.primary);
    if (root == 0) {
      AddProblem(&problems, what + ": the primary is gone");
      continue;
    }
    for (std::uint32_t id : body.secondaries) {
      const std::uint32_t r = RootOf(contacts, id);
      if (r != root) {
        AddProblem(&problems, what + ": secondary " + std::to_string(id) +
                                  (r == 0 ? " is gone" : " is now in the cluster of " + std::to_string(r) +
                                                             ", not " + std::to_string(root)));
      }
    }
    for (const std::string& email : body.emails) {
      const auto it = roots.email.find(email);
      if (it == roots.email.end() || it->second != root) {
        AddProblem(&problems, what + ": email " + email + " is no longer in the cluster of " + std::to_string(root));
      }
    }
    for (const std::string& phone : body.phones) {
      const auto it = roots.phone.find(phone);
      if (it == roots.phone.end() || it->second != root) {
        AddProblem(&problems, what + ": phone " + phone + " is no longer in the cluster of " + std::to_string(root));
      }
    }
  }
  for (const ContactFact& fact : history.facts) {
    const std::string what = "acknowledged contact " + std::to_string(fact.id);
    if (fact.id == 0 || fact.id > contacts.size()) {
      AddProblem(&problems, what + " is gone");
      continue;
    }
    const ContactJson& c = contacts[fact.id - 1];
    if (c.email != fact.email || c.phone != fact.phone) {
      AddProblem(&problems, what + " had email " + Quote(fact.email) + ", phone " + Quote(fact.phone) + "; now " +
                                c.Describe() + " (an id reused?)");
    }
    if (!fact.created_at.empty() && c.created_at != fact.created_at) {
      AddProblem(&problems, what + " had createdAt " + fact.created_at + "; now " + c.Describe());
    }
    const std::uint32_t root = RootOf(contacts, fact.id);
    const std::uint32_t then = RootOf(contacts, fact.root_then);
    if (root == 0 || root != then) {
      AddProblem(&problems, what + " was in the cluster of " + std::to_string(fact.root_then) + "; now " +
                                c.Describe() + " with root " + std::to_string(root) + " vs " + std::to_string(then));
    }
  }
  return problems;
}

std::vector<std::string> CheckServerAgreesWithTable(std::uint16_t port, unsigned connections,
                                                    const std::vector<ContactJson>& contacts) {
  struct Cluster {
    std::vector<std::uint32_t> secondaries;
    std::set<std::string> emails, phones;
  };
  std::map<std::uint32_t, Cluster> clusters;
  for (const ContactJson& c : contacts) {
    const std::uint32_t root = RootOf(contacts, c.id);
    Cluster& cluster = clusters[root];
    if (c.id != root) cluster.secondaries.push_back(c.id);
    if (c.email) cluster.emails.insert(*c.email);
    if (c.phone) cluster.phones.insert(*c.phone);
  }
  struct Query {
    bool is_email;
    std::string value;
    std::uint32_t root;
  };
  std::vector<Query> queries;
  for (const auto& [root, cluster] : clusters) {
    for (const std::string& e : cluster.emails) queries.push_back({true, e, root});
    for (const std::string& p : cluster.phones) queries.push_back({false, p, root});
  }
  std::atomic<std::size_t> next{0};
  std::mutex mu;
  std::vector<std::string> problems;  // guarded by mu
  auto worker = [&] {
    Client client(port);
    for (std::size_t i = next.fetch_add(1); i < queries.size(); i = next.fetch_add(1)) {
      const Query& q = queries[i];
      const std::string body = q.is_email ? IdentifyJson(q.value, std::nullopt) : IdentifyJson(std::nullopt, q.value);
      const std::optional<Response> response = client.PostJson("/identify", body);
      std::string problem;
      IdentifyBody got;
      std::string error;
      if (!response) {
        problem = "no answer";
      } else if (response->status != 200) {
        problem = response->status_line + " " + response->body;
      } else if (!ParseIdentifyBody(response->body, &got, &error)) {
        problem = error;
      } else {
        const Cluster& want = clusters.at(q.root);
        const std::set<std::string> emails(got.emails.begin(), got.emails.end());
        const std::set<std::string> phones(got.phones.begin(), got.phones.end());
        const ContactJson& primary = contacts[q.root - 1];
        if (got.primary != q.root) {
          problem = "primary " + std::to_string(got.primary) + ", the table says " + std::to_string(q.root);
        } else if (got.secondaries != want.secondaries) {
          problem = "secondaries differ from the table's";
        } else if (emails != want.emails || emails.size() != got.emails.size() || phones != want.phones ||
                   phones.size() != got.phones.size()) {
          problem = "emails/phones differ from the table's";
        } else if ((primary.email && got.emails.front() != *primary.email) ||
                   (primary.phone && got.phones.front() != *primary.phone)) {
          problem = "the primary's values are not listed first";
        }
        if (!problem.empty()) problem += ": " + response->body;
      }
      if (!problem.empty()) {
        std::lock_guard lock(mu);
        AddProblem(&problems, "POST /identify " + body + ": " + problem);
        if (!response) return;
      }
    }
  };
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < std::max(1u, connections); ++i) threads.emplace_back(worker);
  for (std::thread& thread : threads) thread.join();
  return problems;
}

std::vector<std::string> VerifyServer(std::uint16_t port, const History& history, std::vector<ContactJson>* contacts) {
  std::vector<std::string> problems;
  std::string error;
  if (!FetchAllContacts(port, 2, contacts, &problems, &error)) {
    problems.push_back("cannot read the contacts back: " + error);
    return problems;
  }
  auto add = [&problems](const std::vector<std::string>& more) {
    problems.insert(problems.end(), more.begin(), more.end());
  };
  add(CheckInvariants(*contacts));
  add(CheckHistory(*contacts, history));
  // Only over a sound table: otherwise every query would differ too.
  if (problems.empty()) add(CheckServerAgreesWithTable(port, 2, *contacts));
  return problems;
}

std::string FormatProblems(const std::vector<std::string>& problems, std::size_t limit) {
  std::string text;
  for (std::size_t i = 0; i < problems.size() && i < limit; ++i) text += "  " + problems[i] + "\n";
  if (problems.size() > limit) text += "  ... and " + std::to_string(problems.size() - limit) + " more\n";
  return text;
}

}  // namespace idrecon::testing
