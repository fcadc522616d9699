//! Experiments behind the chapter's claims (issue 4 starts with `costs`).
