// The pybind11 module pydl._C: glue only. Each area binds itself in its own file.
#include "common.h"

PYBIND11_MODULE(_C, m) {
  m.doc() = "pydl's C++ core: tensors, autograd, kernels";
  // C++'s typed errors become the Python exceptions a learner expects.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const pydl::IndexError& e) {
      PyErr_SetString(PyExc_IndexError, e.what());
    } catch (const pydl::TypeError& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const pydl::ValueError& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const pydl::Error& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
  pydl::bind::bind_settings(m);
  pydl::bind::bind_tensor(m);
  pydl::bind::bind_autograd(m);
  pydl::bind::bind_ops(m);
  pydl::bind::bind_nn(m);
  pydl::bind::bind_pool(m);
  pydl::bind::bind_conv(m);
  // issue 8, normalisation
  pydl::bind::bind_norm(m);
  pydl::bind::bind_resample(m);  // upsample2d, pad2d (issue 8, convx)
  pydl::bind::bind_rnn(m);  // simple_rnn, lstm, gru (issue 9)
  pydl::bind::bind_metrics(m);  // confusion_counts, top_k_hits (issue 11, metrics)
  pydl::bind::bind_rbm(m);  // restricted Boltzmann machine (issue 10)
  pydl::bind::bind_index(m);  // take, gather, argmax, argmin (issue 9, int64)
}
