// What the Engine's methods defined outside engine.cpp (engine_train.cpp) need of its private
// state. Private to the engine.
#pragma once

#include "skillmatch/engine.h"

namespace skillmatch {

// The options the Engine was opened with (its log and progress callbacks).
const EngineOptions& engine_options(const Engine::Impl& impl);

}  // namespace skillmatch
