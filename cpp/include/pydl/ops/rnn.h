// Recurrent layers fused over the whole sequence (issue 9): one op call runs every time step, and
// its backward is full backpropagation through time. Sequences are (batch, time, features);
// weights in Keras's shapes and gate orders (SimpleRNN kernel (in, u), recurrent (u, u), bias (u,);
// LSTM (in, 4u), (u, 4u), (4u,) with gates i, f, c, o; GRU with reset_after=True (in, 3u), (u, 3u),
// bias (2, 3u) = [input bias; recurrent bias] with gates z, r, h). Biases, h0 and c0 may be undefined
// (no bias, zero initial state). activation / recurrent_activation: "tanh", "sigmoid", "relu",
// "linear". go_backwards reads the input from the last step to the first, and, as Keras, returns the
// sequence in that processing order.
// Each returns {sequence of h (B, T, u), last h (B, u)} (LSTM also the last c (B, u)): a node with
// several outputs, so a loss on the last state alone trains the whole sequence.
#pragma once
#include <string>
#include <vector>

#include "pydl/tensor.h"

namespace pydl::ops {

std::vector<Tensor> simple_rnn(const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel,
                               const Tensor& bias, const Tensor& h0, const std::string& activation,
                               bool go_backwards);
std::vector<Tensor> lstm(const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel, const Tensor& bias,
                         const Tensor& h0, const Tensor& c0, const std::string& activation,
                         const std::string& recurrent_activation, bool go_backwards);
std::vector<Tensor> gru(const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel, const Tensor& bias,
                        const Tensor& h0, const std::string& activation, const std::string& recurrent_activation,
                        bool go_backwards);

}  // namespace pydl::ops
