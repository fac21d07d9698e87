// Deleting and listing mask annotations (tessera/app/mask_edits.hpp): one mask, every mask of a tag in a
// series, listings by tag over an image or a series.

#include <fmt/format.h>

#include <algorithm>

#include "app/mask_edits_steps.hpp"
#include "tessera/app/mask_edits.hpp"
#include "tessera/catalog/tracks.hpp"
#include "tessera/core/error.hpp"

namespace tessera::app {

using catalog::Actor;
using catalog::Annotation;
using catalog::EditStatus;
using catalog::Id;

namespace {

constexpr std::int64_t kMasksPerPage = 10'000;

// Leases compare actors by user id when both have one, else by name (as catalog::LockStore does).
bool is_holder(const catalog::Lease& lease, const Actor& actor) {
  if (lease.holder_id && actor.user_id) return *lease.holder_id == *actor.user_id;
  return lease.holder == actor.name;
}

void check_tag(catalog::Catalog& catalog, Id project_id, std::optional<Id> tag_id) {
  if (!tag_id) return;
  const std::vector<catalog::Tag> tags = catalog.list_tags(project_id);
  if (std::none_of(tags.begin(), tags.end(), [&](const catalog::Tag& t) { return t.id == *tag_id; })) {
    throw Error(ErrorCode::not_found, fmt::format("tag_id: no tag with id {} in this project", *tag_id),
                {{"field", "tag_id"}});
  }
}

// One page of the live masks of an image (of a tag); `truncated` when more remain.
catalog::AnnotationPage mask_page(Annotations& annotations, Id image_id, std::optional<Id> tag_id) {
  catalog::ViewportQuery query;
  query.image_id = image_id;
  query.tag_id = tag_id;
  query.limit = kMasksPerPage;
  catalog::AnnotationPage page = annotations.in_viewport(query);
  std::erase_if(page.annotations, [](const Annotation& a) { return a.state.kind != "mask"; });
  return page;
}

}  // namespace

MaskEditOutcome MaskEdits::remove(Id annotation_id, const Actor& actor, std::optional<std::int64_t> version) {
  const Annotation a = annotations_.get(annotation_id);
  require_mask(a, "annotation_id");
  MaskEditOutcome out;
  EditSteps steps(annotations_, actor);
  if (const auto gone =
          steps.apply(out, [&] { return annotations_.remove(a.id, actor, version.value_or(a.version)); })) {
    out.deleted.push_back(*gone);
  }
  return out;
}

MaskEditOutcome MaskEdits::remove_in_series(Id series_id, Id tag_id, const Actor& actor) {
  catalog::TrackStore series_store(workspace_.catalog());
  const catalog::Series series = series_store.get_series(series_id);
  check_tag(workspace_.catalog(), series.project_id, tag_id);
  const std::vector<catalog::SeriesImage> images = series_store.series_images(series_id);
  MaskEditOutcome out;
  // Every lease first, so a series with one locked frame is left untouched rather than half deleted.
  for (const catalog::SeriesImage& image : images) {
    if (const auto lease = annotations_.find_lock(image.id); lease && !is_holder(*lease, actor)) {
      out.status = EditStatus::locked;
      out.lease = lease;
      return out;
    }
  }
  EditSteps steps(annotations_, actor);
  for (const catalog::SeriesImage& image : images) {
    // Deleted masks leave the listing, so asking again pages through an image with very many.
    for (bool more = true; more;) {
      const catalog::AnnotationPage page = mask_page(annotations_, image.id, tag_id);
      for (const Annotation& a : page.annotations) {
        const auto gone = steps.apply(out, [&] { return annotations_.remove(a.id, actor, a.version); });
        if (!gone) return out;
        out.deleted.push_back(*gone);
      }
      more = page.truncated && !page.annotations.empty();
    }
  }
  return out;
}

MaskList MaskEdits::list_in_image(Id image_id, std::optional<Id> tag_id) {
  const catalog::ImageRecord image = workspace_.catalog().get_image(image_id);
  check_tag(workspace_.catalog(), image.project_id, tag_id);
  catalog::AnnotationPage page = mask_page(annotations_, image.id, tag_id);
  return {std::move(page.annotations), page.truncated};
}

MaskList MaskEdits::list_in_series(Id series_id, std::optional<Id> tag_id) {
  catalog::TrackStore series_store(workspace_.catalog());
  const catalog::Series series = series_store.get_series(series_id);
  check_tag(workspace_.catalog(), series.project_id, tag_id);
  MaskList out;
  for (const catalog::SeriesImage& image : series_store.series_images(series_id)) {
    catalog::AnnotationPage page = mask_page(annotations_, image.id, tag_id);
    std::move(page.annotations.begin(), page.annotations.end(), std::back_inserter(out.masks));
    out.truncated = out.truncated || page.truncated;
  }
  return out;
}

}  // namespace tessera::app
