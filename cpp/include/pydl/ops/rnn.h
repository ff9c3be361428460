// Recurrent layers fused over the whole sequence (issue 9): one op call runs every time step, and
// its backward is full backpropagation through time. Sequences are (batch, time, features);
// weights in Keras's shapes and gate orders (SimpleRNN kernel (in, u), recurrent (u, u), bias (u,);
// LSTM (in, 4u), (u, 4u), (4u,) with gates i, f, c, o; GRU with reset_after=True (in, 3u), (u, 3u),
// bias (2, 3u) = [input bias; recurrent bias] with gates z, r, h). Biases, h0 and c0 may be undefined
// (no bias, zero initial state). activation / recurrent_activation: "tanh", "sigmoid", "relu",
// "linear". go_backwards reads the input from the last step to the first, and, as Keras, returns the
// sequence in that processing order.
// mask (B, T) of x's dtype, 1 keep / 0 skip (undefined: every step): a skipped step carries the states
// through unchanged; the sequence holds the carried h there (Keras's default), or zeros with
// zero_output_for_mask. It is read at the step's input time, so it reverses with go_backwards.
// recurrent_dropout (B, G*units) (undefined: none): per-gate masks, already scaled, multiplying
// h_{s-1} before each gate's recurrent kernel (G = 1, 4 (i f c o), 3 (z r h)); no gradient flows to it.
// Each returns {sequence of h (B, T, u), last h (B, u)} (LSTM also the last c (B, u)): a node with
// several outputs, so a loss on the last state alone trains the whole sequence. With
// return_sequences false the sequence output is undefined (a layer that returns the last state
// only), and inference then never keeps the steps' h.
#pragma once
#include <string>
#include <vector>

#include "pydl/tensor.h"

namespace pydl::ops {

std::vector<Tensor> simple_rnn(const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel,
                               const Tensor& bias, const Tensor& h0, const std::string& activation,
                               bool go_backwards, const Tensor& mask = Tensor(),
                               const Tensor& recurrent_dropout = Tensor(), bool zero_output_for_mask = false, bool return_sequences = true);
std::vector<Tensor> lstm(const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel, const Tensor& bias,
                         const Tensor& h0, const Tensor& c0, const std::string& activation,
                         const std::string& recurrent_activation, bool go_backwards, const Tensor& mask = Tensor(),
                         const Tensor& recurrent_dropout = Tensor(), bool zero_output_for_mask = false, bool return_sequences = true);
std::vector<Tensor> gru(const Tensor& x, const Tensor& kernel, const Tensor& recurrent_kernel, const Tensor& bias,
                        const Tensor& h0, const std::string& activation, const std::string& recurrent_activation,
                        bool go_backwards, const Tensor& mask = Tensor(), const Tensor& recurrent_dropout = Tensor(),
                        bool zero_output_for_mask = false, bool return_sequences = true);

}  // namespace pydl::ops
