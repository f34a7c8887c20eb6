// What the delete view and the admin's bulk delete share: the data a confirmation template
// sees of a preview, and the delete bound to what the page showed. Internal to the web layer.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <variant>

#include "cascade/deletion/collector.h"
#include "cascade/model/registry.h"
#include "cascade/web/http.h"
#include "cascade/web/templates.h"

namespace cascade::web {

// binding, blocked, blocked_message, blockers, summary, total, updates, effects, tree, omitted
// (and their has_ flags); `link` gives an object's page ("" for none); `count_link`, a page
// listing every object of a model (its label) the delete reaches, linked from its count.
TemplateData preview_data(const Preview& p, const Registry& registry,
                          const std::function<std::string(const Preview::Node&)>& link,
                          const std::function<std::string(const std::string&)>& count_link = {});

// The `binding` a confirmation's form carries for a preview.
std::string encode_binding(const Preview& p);
// What a confirmation's form says the page showed (its `binding`), or nullopt when malformed.
std::optional<Preview> decode_binding(const std::string& text);

// Runs plan() bound to the preview the form's `binding` carries: its result, or why nothing
// was deleted (no binding, the rows changed, a refusal, the database's refusal at commit).
// Instances the plan was collected from must outlive this call.
std::variant<DeleteResult, std::string> execute_bound(Request& request,
                                                      const std::function<DeletionPlan()>& plan);
// The same for a preview at hand (a background job's), calling `progress` before each step.
std::variant<DeleteResult, std::string> run_bound(const Preview& shown,
                                                  const std::function<DeletionPlan()>& plan,
                                                  const DeletionPlan::Progress& progress = {});

}  // namespace cascade::web
