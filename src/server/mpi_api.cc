#include "server/mpi_api.h"

#include "core/json.h"
#include "server/auth_api.h"
#include "server/http_util.h"

namespace medhub::server {
namespace {

// "Patient/x" or "x" → "x"; "" when it names another type.
std::string PatientId(std::string_view ref) {
  if (ref.starts_with("Patient/")) ref.remove_prefix(8);
  if (ref.empty() || ref.find('/') != std::string_view::npos) return "";
  return std::string(ref);
}

Result<json::Value> Body(const HttpRequest& req) {
  auto doc = json::Parse(req.body);
  if (!doc.ok() || !doc->is_object())
    return Status::InvalidArgument("the body must be a JSON object");
  return std::move(doc).value();
}

HttpResponse Json(const json::Value& v) {
  return JsonResponse(200, json::Serialize(v), "application/json");
}

}  // namespace

HttpResponse MpiApi::Person(std::string_view patient) {
  auto pid = mpi_->PersonOf(patient);
  if (!pid.ok()) return ErrorResponse(pid.status());
  auto linked = mpi_->LinkedPatients(patient);
  if (!linked.ok()) return ErrorResponse(linked.status());
  json::Value out = json::Value::Object();
  out.set("person", pid->empty() ? json::Value() : json::Value::String("Person/" + *pid));
  json::Value list = json::Value::Array();
  for (const std::string& p : *linked) list.push_back(json::Value::String("Patient/" + p));
  out.set("patients", std::move(list));
  return Json(out);
}

HttpResponse MpiApi::Handle(const HttpRequest& req) {
  if (!authenticate_) return Serve(req);
  auto who = authenticate_(req);
  if (!who.ok()) {
    HttpResponse r = ErrorResponse(who.status());
    r.headers.emplace_back("WWW-Authenticate", BearerChallenge(who.status()));
    return r;
  }
  const bool allowed = who->role == security::Role::kService ||
                       (who->role == security::Role::kAdmin && !who->organization.empty());
  if (!allowed)
    return ErrorResponse(Status::PermissionDenied(
        "the master patient index is open to organization admins and service clients only"));
  return Serve(req);
}

HttpResponse MpiApi::Serve(const HttpRequest& req) {
  const std::string_view path = req.path;
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (path == "/api/mpi/review" && get) {
    auto items = mpi_->Review();
    if (!items.ok()) return ErrorResponse(items.status());
    json::Value list = json::Value::Array();
    for (const sync::ReviewItem& i : *items) {
      json::Value v = json::Value::Object();
      v.set("a", json::Value::String("Patient/" + i.a));
      v.set("b", json::Value::String("Patient/" + i.b));
      v.set("score", json::Value::Number(std::to_string(i.score)));
      auto fields = json::Parse(i.fields_json);
      v.set("fields", fields.ok() ? std::move(fields).value() : json::Value::Object());
      list.push_back(std::move(v));
    }
    json::Value out = json::Value::Object();
    out.set("review", std::move(list));
    return Json(out);
  }
  if (path.starts_with("/api/mpi/patients/") && get) {
    const std::string id = PatientId(path.substr(18));
    if (id.empty()) return ErrorResponse(Status::NotFound("no such Patient"));
    return Person(id);
  }
  if ((path == "/api/mpi/link" || path == "/api/mpi/unlink") && req.method == "POST") {
    auto body = Body(req);
    if (!body.ok()) return ErrorResponse(body.status());
    if (path == "/api/mpi/link") {
      const std::string a = PatientId(body->get_string("a"));
      const std::string b = PatientId(body->get_string("b"));
      if (a.empty() || b.empty())
        return ErrorResponse(
            Status::InvalidArgument("link takes {\"a\":\"Patient/x\",\"b\":\"Patient/y\"}"));
      if (Status s = mpi_->Link(a, b); !s.ok()) return ErrorResponse(s);
      return Person(a);
    }
    const std::string p = PatientId(body->get_string("patient"));
    if (p.empty())
      return ErrorResponse(Status::InvalidArgument("unlink takes {\"patient\":\"Patient/x\"}"));
    auto others = mpi_->LinkedPatients(p);
    if (!others.ok()) return ErrorResponse(others.status());
    if (Status s = mpi_->Unlink(p); !s.ok()) return ErrorResponse(s);
    return others->size() > 1 ? Person((*others)[1]) : Person(p);
  }
  HttpResponse r =
      ErrorResponse(Status::NotFound("no such MPI endpoint: " + req.method + " " + req.path));
  return r;
}

}  // namespace medhub::server
