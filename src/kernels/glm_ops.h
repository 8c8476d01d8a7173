#pragma once
// Codes shared by the models (which send them as task scalars) and the GLM kernels.

#include <cstdint>

namespace nums::kernels {

/// The distribution of y given x, with its canonical link: what the GLM kernels compute.
///   kGaussian: mu = eta,              loss (y - eta)^2 / 2
///   kLogistic: mu = 1 / (1 + e^-eta), loss log(1 + e^eta) - y eta
///   kPoisson:  mu = e^eta,            loss e^eta - y eta
/// The gradient of the summed loss over eta is mu - y and its second derivative d mu / d eta.
enum class GlmFamily : int64_t { kGaussian, kLogistic, kPoisson };

}  // namespace nums::kernels
