// The example app's web views (the seeds' "Deleting Data in Views"), for `blog_shop runserver`.
#pragma once

#include "cascade/cli/cli.h"

namespace blog_shop {

// /posts/ (the posts not marked is_deleted, a ListView<Post>), /posts/<pk>/ (a DetailView<Post>),
// /posts/<pk>/delete/ (the seeds' delete_post, a
// DeleteView<Post> with templates/post_confirm_delete.html), /posts/<pk>/soft-delete/ (the
// seeds' soft_delete_post: is_deleted = true, POST only).
cascade::cli::WebApp web_app();

}  // namespace blog_shop
