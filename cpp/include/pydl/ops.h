// Every differentiable op of the core, one header per family. Each op checks its inputs'
// shapes where it begins, runs the kernel of the current backend, and (when an input needs a
// gradient and grad mode is on) records the Node whose apply() is its backward.
#pragma once
#include "pydl/ops/activation.h"
#include "pydl/ops/conv.h"
#include "pydl/ops/dropout.h"
#include "pydl/ops/elementwise.h"
#include "pydl/ops/index.h"  // issue 9: take, gather
#include "pydl/ops/loss.h"
#include "pydl/ops/matmul.h"
#include "pydl/ops/metrics.h"  // issue 11, streaming metrics
#include "pydl/ops/norm.h"
#include "pydl/ops/pool.h"
#include "pydl/ops/reduce.h"
#include "pydl/ops/resample.h"
#include "pydl/ops/rbm.h"  // issue 10 (no autograd: CD estimates)
#include "pydl/ops/rnn.h"  // issue 9
#include "pydl/ops/shape.h"
