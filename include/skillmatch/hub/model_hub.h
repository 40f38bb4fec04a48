// Finding a model by name: a local folder, or a Hugging Face Hub id ("org/name") already in the
// Hugging Face cache that Python users have (huggingface_hub's layout).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace skillmatch {

// The hub cache directory: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
std::filesystem::path hf_hub_cache();

// `name` as a folder if it is one; else, for an id "org/name", the snapshot of
// models--org--name that refs/main points to (or the only/newest snapshot). Throws kNotFound
// naming the places looked at and how to get the model.
std::filesystem::path resolve_model(const std::string& name);

}  // namespace skillmatch
