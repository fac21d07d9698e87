#include <fmt/format.h>

#include "server/json_records.hpp"
#include "server/routes.hpp"
#include "tessera/app/upload.hpp"
#include "tessera/core/error.hpp"

namespace tessera::server {
namespace {

constexpr std::int64_t kMaxPage = 1000;

// Cursors are opaque to clients: hex of {"v": last sort value, "id": last id}.
std::string encode_cursor(const nlohmann::json& value, Id id) {
  const std::string text = nlohmann::json{{"v", value}, {"id", id}}.dump();
  std::string hex;
  for (unsigned char c : text) hex += fmt::format("{:02x}", c);
  return hex;
}

std::pair<nlohmann::json, Id> decode_cursor(const std::string& hex) {
  auto bad = [] { return HttpError(400, "invalid_argument", "query parameter 'cursor' is not a cursor this server made",
                                   nlohmann::json{{"field", "cursor"}}); };
  if (hex.size() % 2 || hex.size() > 4000) throw bad();
  std::string text;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int byte = 0;
    for (size_t k = i; k < i + 2; ++k) {
      const char c = hex[k];
      const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (digit < 0) throw bad();
      byte = byte * 16 + digit;
    }
    text += static_cast<char>(byte);
  }
  try {
    auto j = nlohmann::json::parse(text);
    if (!j.is_object() || !j.contains("id") || !j["id"].is_number_integer()) throw bad();
    return {j.value("v", nlohmann::json()), j["id"].get<Id>()};
  } catch (const nlohmann::json::exception&) {
    throw bad();
  }
}

// Catalog errors about a request's own content (a bad filter, an unknown sort key) are the client's: 400.
template <typename Fn>
auto as_client_error(const std::string& field, Fn&& fn) {
  try {
    return fn();
  } catch (const Error& e) {
    if (e.code() == ErrorCode::invalid_argument) {
      // An error naming its own field (an unknown sort key) keeps it; others are about `field`.
      const bool named = e.details().is_object() && e.details().contains("field");
      throw HttpError(400, "invalid_argument", e.what(), named ? e.details() : nlohmann::json{{"field", field}});
    }
    throw;
  }
}

std::vector<Id> id_list(const nlohmann::json& body, const std::string& field) {
  auto it = body.find(field);
  if (it == body.end() || !it->is_array()) {
    throw HttpError(400, "invalid_argument", fmt::format("field '{}' must be an array of image ids", field),
                    nlohmann::json{{"field", field}});
  }
  std::vector<Id> ids;
  for (const auto& v : *it) {
    if (!v.is_number_integer() || v.get<Id>() <= 0) {
      throw HttpError(400, "invalid_argument", fmt::format("field '{}' holds something that is not an image id", field),
                      nlohmann::json{{"field", field}});
    }
    ids.push_back(v.get<Id>());
  }
  return ids;
}

// Image ids must belong to the project: ids of other projects are reported as unknown.
void check_ids_in_project(Context& ctx, Id project_id, const std::vector<Id>& ids) {
  for (Id id : ids) {
    bool ok = false;
    try {
      ok = ctx.catalog().get_image(id).project_id == project_id;
    } catch (const Error& e) {
      if (e.code() != ErrorCode::not_found) throw;
    }
    if (!ok) throw HttpError(404, "not_found", fmt::format("no image with id {} in this project", id));
  }
}

catalog::TagSpec tag_spec(const nlohmann::json& body, const std::string& name, const std::optional<catalog::Tag>& current) {
  catalog::TagSpec spec;
  spec.name = name;
  if (current) {
    spec.color = current->color;
    spec.kind = current->kind;
    spec.parent = current->parent;
  }
  if (auto c = optional_string(body, "color")) spec.color = *c;
  if (auto k = optional_string(body, "kind")) spec.kind = *k;
  if (body.contains("parent")) spec.parent = optional_string(body, "parent");
  static const std::set<std::string> kinds{"label", "image", "object", "scribble"};
  if (!kinds.count(spec.kind)) {
    throw HttpError(400, "invalid_argument", "field 'kind' must be label, image, object or scribble",
                    nlohmann::json{{"field", "kind"}});
  }
  return spec;
}

std::optional<catalog::Tag> find_tag(Context& ctx, Id project_id, const std::string& name) {
  for (auto& t : ctx.catalog().list_tags(project_id)) {
    if (t.name == name) return t;
  }
  return std::nullopt;
}

std::string content_type_of(const std::string& format) {
  if (format == "png") return "image/png";
  if (format == "jpeg" || format == "jpg") return "image/jpeg";
  if (format == "tiff") return "image/tiff";
  if (format == "webp") return "image/webp";
  return "application/octet-stream";
}

// A body the reader could not deliver: too large (413) or cut off (400).
[[noreturn]] void body_failed(Context& ctx, const char* what) {
  const std::string length = ctx.req.get_header_value("Content-Length");
  std::size_t declared = 0;
  try {
    declared = length.empty() ? 0 : std::stoull(length);
  } catch (const std::exception&) {
  }
  if (declared > ctx.services.options.max_body_bytes) {
    throw HttpError(413, "payload_too_large",
                    fmt::format("the body has {} bytes; this server accepts at most {} (tessera serve --max-body)", declared,
                                ctx.services.options.max_body_bytes));
  }
  throw HttpError(400, "invalid_argument", what);
}

void send_upload(Context& ctx, Id project_id, app::Upload upload) {
  upload.actor = ctx.user().name;
  app::UploadResult result;
  try {
    result = app::upload_image(ctx.services.workspace, project_id, upload);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::unsupported) throw HttpError(415, "unsupported_media_type", e.what());
    throw;
  }
  ctx.services.feed.notify();
  nlohmann::json body = image_json(result.record);
  body["created"] = result.created;
  if (result.focus_alert) body["focus_alert"] = *result.focus_alert;
  if (result.created) {
    ctx.send_created(body, fmt::format("/api/v1/images/{}", result.record.id));
  } else {
    ctx.send_json(body, 200);
  }
}

std::optional<std::int64_t> parse_frame(const std::optional<std::string>& text) {
  if (!text || text->empty()) return std::nullopt;
  try {
    size_t used = 0;
    const long long v = std::stoll(*text, &used);
    if (used != text->size()) throw std::invalid_argument("trailing");
    return v;
  } catch (const std::exception&) {
    throw HttpError(400, "invalid_argument", fmt::format("field 'frame' must be an integer (got '{}')", *text),
                    nlohmann::json{{"field", "frame"}});
  }
}

nlohmann::json parse_metadata(const std::optional<std::string>& text) {
  if (!text || text->empty()) return nlohmann::json::object();
  try {
    auto j = nlohmann::json::parse(*text);
    if (!j.is_object()) throw HttpError(400, "invalid_argument", "field 'metadata' must be a JSON object", nlohmann::json{{"field", "metadata"}});
    return j;
  } catch (const nlohmann::json::parse_error& e) {
    throw HttpError(400, "invalid_argument", fmt::format("field 'metadata' is not valid JSON: {}", e.what()),
                    nlohmann::json{{"field", "metadata"}});
  }
}

void add_upload_route(Router& router) {
  // Raw body (image/*, application/octet-stream; name, series, frame and metadata in the query) or
  // multipart/form-data (parts: file, metadata, series, frame).
  router.post_stream(R"(/api/v1/projects/(\d+)/images)", [](Context& ctx, const httplib::ContentReader& reader) {
    auto access = ctx.project(ctx.path_id(1, "project"), Role::editor);
    app::Upload upload;
    const std::string type = ctx.req.get_header_value("Content-Type");
    if (ctx.req.is_multipart_form_data()) {
      std::map<std::string, std::string> fields;
      std::string current;
      bool ok = reader(
          [&](const httplib::MultipartFormData& part) {
            current = part.name;
            if (part.name == "file") upload.name = part.filename;
            fields[current];
            return true;
          },
          [&](const char* data, size_t length) {
            if (current != "file" && fields[current].size() + length > (1u << 20)) return false;
            (current == "file" ? upload.bytes : fields[current]).append(data, length);
            return true;
          });
      if (!ok) body_failed(ctx, "the multipart body is truncated or malformed");
      if (!fields.count("file")) throw HttpError(400, "invalid_argument", "multipart upload has no 'file' part", nlohmann::json{{"field", "file"}});
      if (fields.count("name") && !fields["name"].empty()) upload.name = fields["name"];
      upload.metadata = parse_metadata(fields.count("metadata") ? std::optional(fields["metadata"]) : std::nullopt);
      if (fields.count("series") && !fields["series"].empty()) upload.series = fields["series"];
      upload.frame_index = parse_frame(fields.count("frame") ? std::optional(fields["frame"]) : std::nullopt);
    } else {
      if (!(type.starts_with("image/") || type.starts_with("application/octet-stream"))) {
        throw HttpError(415, "unsupported_media_type",
                        fmt::format("upload an image as image/*, application/octet-stream or multipart/form-data (got '{}')",
                                    type.empty() ? "no Content-Type" : type));
      }
      if (!reader([&](const char* data, size_t length) {
            upload.bytes.append(data, length);
            return true;
          })) {
        body_failed(ctx, "the upload body is truncated");
      }
      upload.name = ctx.query("name").value_or("");
      upload.metadata = parse_metadata(ctx.query("metadata"));
      upload.series = ctx.query("series");
      upload.frame_index = parse_frame(ctx.query("frame"));
    }
    if (upload.name.empty()) {
      throw HttpError(400, "invalid_argument", "name the file: ?name=... (raw body) or the file part's filename",
                      nlohmann::json{{"field", "name"}});
    }
    send_upload(ctx, access.project.id, std::move(upload));
  });
}

void add_listing_routes(Router& router) {
  router.get(R"(/api/v1/projects/(\d+)/images)", [](Context& ctx) {
    auto access = ctx.project(ctx.path_id(1, "project"));
    catalog::ImageQuery query;
    query.project_id = access.project.id;
    query.where = ctx.query("where").value_or("");
    query.set = ctx.query("set");
    query.tag = ctx.query("tag");
    query.annotation_state = ctx.query("annotation_state");  // an unknown state: the catalog's 400 names the field
    if (ctx.query("series")) query.series_id = ctx.query_int("series", 0, 1, INT64_MAX);
    query.order_by = ctx.query("sort").value_or("id");
    const std::string order = ctx.query("order").value_or("asc");
    if (order != "asc" && order != "desc") {
      throw HttpError(400, "invalid_argument", "query parameter 'order' must be asc or desc", nlohmann::json{{"field", "order"}});
    }
    query.descending = order == "desc";
    query.limit = ctx.query_int("limit", 100, 1, kMaxPage);
    if (auto cursor = ctx.query("cursor")) {
      auto [value, id] = decode_cursor(*cursor);
      query.after_value = value;
      query.after_id = id;
    }
    auto images = as_client_error("where", [&] { return ctx.catalog().list_images(query); });
    nlohmann::json out = nlohmann::json::array();
    for (const auto& image : images) out.push_back(image_json(image));
    nlohmann::json body{{"images", out}, {"next_cursor", nullptr}};
    if (static_cast<std::int64_t>(images.size()) == query.limit) {
      body["next_cursor"] = encode_cursor(catalog::image_sort_value(images.back(), query.order_by), images.back().id);
    }
    if (ctx.query("count") == std::optional<std::string>("true")) {
      catalog::ImageQuery all = query;
      all.after_id = 0;
      all.limit = -1;
      body["total"] = ctx.catalog().count_images(all);
    }
    ctx.send_json(body);
  });

  router.get(R"(/api/v1/images/(\d+))", [](Context& ctx) {
    auto image = ctx.image(ctx.path_id(1, "image"));
    nlohmann::json out = image_json(image);
    out["sets"] = ctx.catalog().sets_of_image(image.id);
    out["tags"] = ctx.catalog().tags_of_image(image.id);
    ctx.send_json(out);
  });

  router.get(R"(/api/v1/images/(\d+)/raw)", [](Context& ctx) {
    auto image = ctx.image(ctx.path_id(1, "image"));
    const std::string etag = "\"" + image.blob_hash + "\"";
    ctx.res.set_header("ETag", etag);
    ctx.res.set_header("Cache-Control", "private, max-age=31536000, immutable");
    if (ctx.req.get_header_value("If-None-Match") == etag) {
      ctx.res.status = 304;
      return;
    }
    ctx.res.set_content(ctx.blobs().get(image.blob_hash), content_type_of(image.format));
  });

  router.get(R"(/api/v1/projects/(\d+)/series)", [](Context& ctx) {
    auto access = ctx.project(ctx.path_id(1, "project"));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : ctx.catalog().list_series(access.project.id)) out.push_back(to_json(s));
    ctx.send_json({{"series", out}});
  });
}

void add_set_routes(Router& router) {
  router.get(R"(/api/v1/projects/(\d+)/sets)", [](Context& ctx) {
    auto access = ctx.project(ctx.path_id(1, "project"));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : ctx.catalog().list_sets(access.project.id)) out.push_back(to_json(s));
    ctx.send_json({{"sets", out}});
  });

  // {"name", "description"?, and "where" (a filter, stored with the set) or "image_ids"}.
  router.post(R"(/api/v1/projects/(\d+)/sets)", [](Context& ctx) {
    auto access = ctx.project(ctx.path_id(1, "project"), Role::editor);
    const nlohmann::json body = ctx.json_body();
    const std::string name = require_string(body, "name");
    const std::string description = optional_string(body, "description").value_or("");
    const auto where = optional_string(body, "where");
    if (where && body.contains("image_ids")) {
      throw HttpError(400, "invalid_argument", "give either 'where' or 'image_ids', not both", nlohmann::json{{"field", "where"}});
    }
    std::vector<Id> ids;
    if (body.contains("image_ids")) {
      ids = id_list(body, "image_ids");
      check_ids_in_project(ctx, access.project.id, ids);
    }
    auto set = as_client_error("where", [&] { return ctx.catalog().create_set(access.project.id, name, where.value_or(""), description); });
    if (!ids.empty()) {
      ctx.catalog().add_to_set(access.project.id, name, ids);
      set = ctx.catalog().get_set(access.project.id, name);
    }
    ctx.services.feed.notify();
    ctx.send_created(to_json(set), fmt::format("/api/v1/projects/{}/sets/{}", access.project.id, set.id));
  });

  router.get(R"(/api/v1/projects/(\d+)/sets/([^/]+))", [](Context& ctx) {
    auto access = ctx.project(ctx.path_id(1, "project"));
    ctx.send_json(to_json(ctx.catalog().get_set(access.project.id, ctx.path(2))));
  });

  router.del(R"(/api/v1/projects/(\d+)/sets/([^/]+))", [](Context& ctx) {
    auto access = ctx.project(ctx.path_id(1, "project"), Role::editor);
    ctx.catalog().delete_set(access.project.id, ctx.path(2));
    ctx.res.status = 204;
  });

  // Add or remove members: {"image_ids": [...]} or {"where": "..."}.
  for (const char* action : {"add", "remove"}) {
    const bool add = std::string(action) == "add";
    router.post(fmt::format(R"(/api/v1/projects/(\d+)/sets/([^/]+)/{})", action), [add](Context& ctx) {
      auto access = ctx.project(ctx.path_id(1, "project"), Role::editor);
      const nlohmann::json body = ctx.json_body();
      const std::string name = ctx.path(2);
      ctx.catalog().get_set(access.project.id, name);  // 404 first
      std::int64_t changed = 0;
      if (auto where = optional_string(body, "where")) {
        changed = as_client_error("where", [&] {
          return add ? ctx.catalog().add_to_set_where(access.project.id, name, *where)
                     : ctx.catalog().remove_from_set_where(access.project.id, name, *where);
        });
      } else {
        auto ids = id_list(body, "image_ids");
        check_ids_in_project(ctx, access.project.id, ids);
        changed = add ? ctx.catalog().add_to_set(access.project.id, name, ids)
                      : ctx.catalog().remove_from_set(access.project.id, name, ids);
      }
      nlohmann::json out = to_json(ctx.catalog().get_set(access.project.id, name));
      out["changed"] = changed;
      ctx.send_json(out);
    });
  }
}

void add_tag_routes(Router& router) {
  router.get(R"(/api/v1/projects/(\d+)/tags)", [](Context& ctx) {
    auto access = ctx.project(ctx.path_id(1, "project"));
    nlohmann::json out = nlohmann::json::array();
    for (const auto& t : ctx.catalog().list_tags(access.project.id)) out.push_back(to_json(t));
    ctx.send_json({{"tags", out}});
  });

  // {"name", "color": "#rrggbb", "kind": label|image|object|scribble, "parent"}: 201, or 409 if it exists.
  router.post(R"(/api/v1/projects/(\d+)/tags)", [](Context& ctx) {
    auto access = ctx.project(ctx.path_id(1, "project"), Role::editor);
    const nlohmann::json body = ctx.json_body();
    const std::string name = require_string(body, "name");
    if (find_tag(ctx, access.project.id, name)) {
      throw HttpError(409, "conflict", fmt::format("a tag named '{}' already exists", name));
    }
    auto spec = tag_spec(body, name, std::nullopt);
    as_client_error("color", [&] { return ctx.catalog().upsert_tags(access.project.id, {spec}); });
    auto tag = find_tag(ctx, access.project.id, name);
    ctx.add_event(access.project.id, catalog::NewEvent{"tag.created", std::nullopt, "tag", tag->id, to_json(*tag)});
    ctx.send_created(to_json(*tag), fmt::format("/api/v1/projects/{}/tags/{}", access.project.id, name));
  });

  router.patch(R"(/api/v1/projects/(\d+)/tags/([^/]+))", [](Context& ctx) {
    auto access = ctx.project(ctx.path_id(1, "project"), Role::editor);
    const nlohmann::json body = ctx.json_body();
    auto current = find_tag(ctx, access.project.id, ctx.path(2));
    if (!current) throw HttpError(404, "not_found", fmt::format("no tag named '{}'", ctx.path(2)));
    auto spec = tag_spec(body, current->name, current);
    as_client_error("color", [&] { return ctx.catalog().upsert_tags(access.project.id, {spec}); });
    auto tag = find_tag(ctx, access.project.id, current->name);
    ctx.add_event(access.project.id, catalog::NewEvent{"tag.updated", std::nullopt, "tag", tag->id, to_json(*tag)});
    ctx.send_json(to_json(*tag));
  });

  router.del(R"(/api/v1/projects/(\d+)/tags/([^/]+))", [](Context& ctx) {
    auto access = ctx.project(ctx.path_id(1, "project"), Role::editor);
    ctx.catalog().delete_tag(access.project.id, ctx.path(2));
    ctx.add_event(access.project.id, catalog::NewEvent{"tag.deleted", std::nullopt, "tag", std::nullopt, {{"name", ctx.path(2)}}});
    ctx.res.status = 204;
  });

  // Whole-image tags.
  for (const bool on : {true, false}) {
    auto handler = [on](Context& ctx) {
      auto image = ctx.image(ctx.path_id(1, "image"), Role::editor);
      ctx.catalog().set_image_tag(image.project_id, image.id, ctx.path(2), on);
      ctx.send_json({{"image_id", image.id}, {"tags", ctx.catalog().tags_of_image(image.id)}});
    };
    if (on) {
      router.put(R"(/api/v1/images/(\d+)/tags/([^/]+))", handler);
    } else {
      router.del(R"(/api/v1/images/(\d+)/tags/([^/]+))", handler);
    }
  }
}

}  // namespace

void add_image_routes(Router& router) {
  add_upload_route(router);
  add_listing_routes(router);
  add_set_routes(router);
  add_tag_routes(router);
}

}  // namespace tessera::server
