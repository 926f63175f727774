// The response bodies of docs/api.md §2: the cluster and the error object.
#include "api/response_json.h"

#include <gtest/gtest.h>

#include <string>

namespace idrecon {
namespace {

TEST(ClusterJsonTest, TheWorkedExampleWithBothSpellingsOfThePrimaryId) {
  ClusterView cluster;
  cluster.primary_id = 1;
  cluster.emails = {"lorraine@hillvalley.edu", "mcfly@hillvalley.edu"};
  cluster.phone_numbers = {"123456"};
  cluster.secondary_ids = {23};
  std::string out = "prefix:";
  AppendClusterJson(cluster, &out);
  EXPECT_EQ(out,
            "prefix:{\"contact\":{\"primaryContatctId\":1,\"primaryContactId\":1,"
            "\"emails\":[\"lorraine@hillvalley.edu\",\"mcfly@hillvalley.edu\"],\"phoneNumbers\":[\"123456\"],"
            "\"secondaryContactIds\":[23]}}");
}

TEST(ClusterJsonTest, EmptyListsStayArraysAndValuesAreEscaped) {
  ClusterView cluster;
  cluster.primary_id = 4294967295u;
  cluster.emails = {"a\"b\\c\n@x"};
  std::string out;
  AppendClusterJson(cluster, &out);
  EXPECT_EQ(out,
            "{\"contact\":{\"primaryContatctId\":4294967295,\"primaryContactId\":4294967295,"
            "\"emails\":[\"a\\\"b\\\\c\\n@x\"],\"phoneNumbers\":[],\"secondaryContactIds\":[]}}");
}

TEST(ErrorJsonTest, OneEscapedMessage) {
  std::string out;
  AppendErrorJson("bad \"value\"\t", &out);
  EXPECT_EQ(out, "{\"error\":\"bad \\\"value\\\"\\t\"}");
}

}  // namespace
}  // namespace idrecon
