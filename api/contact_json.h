// AppendContactJson: one contact as the JSON object of docs/api.md §1's row,
//
//   {"id":7,"phoneNumber":"+1555…"|null,"email":"…"|null,"linkedId":3|null,
//    "linkPrecedence":"primary"|"secondary","createdAt":"…Z","updatedAt":"…Z",
//    "deletedAt":"…Z"|null}
//
// GET /contacts/{id} answers with it and `idrecon-tool export --format jsonl`
// writes one per line, so the two can never drift apart. An empty value is
// null; linkedId is null for a primary.
//
// Thread-safety: a pure function.
#pragma once

#include <string>

#include "engine/engine.h"

namespace idrecon {

// Appends the object (no newline) to *out.
void AppendContactJson(const ContactRow& row, std::string* out);

}  // namespace idrecon
