# The kernel's same-time tie-break draw compiled (included by _cexchange.pyx). Issue 12: the
# event kernel draws one uniform per agent wake-up (SPEC §4: agents acting "at once" run in an
# order drawn from the episode's generator); ``Generator.random()`` costs ~0.45 us a call
# through its Python layer. UniformDraw calls the generator's own C ``next_double`` — what
# ``Generator.random()`` returns, from the same bit-generator state, so every other consumer of
# the generator sees the same stream — in ~0.05 us. tests/sim/test_uniform_draw.py compares
# it with ``Generator.random()`` interleaved with other draws, after pickling and copying.

from cpython.pycapsule cimport PyCapsule_GetPointer, PyCapsule_IsValid


cdef extern from *:
    """
    /* numpy/random/bitgen.h: the stable C interface of numpy's bit generators */
    typedef struct rex_bitgen {
        void *state;
        uint64_t (*next_uint64)(void *st);
        uint32_t (*next_uint32)(void *st);
        double (*next_double)(void *st);
        uint64_t (*next_raw)(void *st);
    } rex_bitgen;
    """
    ctypedef struct rex_bitgen:
        void *state
        double (*next_double)(void *st) noexcept nogil


cdef class UniformDraw:
    """``generator.random()`` as a zero-argument callable, in C: ``UniformDraw(generator)()``
    returns the float ``generator.random()`` would, advancing the same state. Pickles and
    copies with its generator (shared with whoever else holds it in the same pickle)."""

    cdef readonly object generator
    cdef object _bit_generator  # keeps the capsule's state alive
    cdef rex_bitgen *_bitgen

    def __init__(self, generator):
        bit_generator = getattr(generator, "bit_generator", None)
        capsule = getattr(bit_generator, "capsule", None)
        if capsule is None or not PyCapsule_IsValid(capsule, "BitGenerator"):
            raise TypeError(f"a numpy Generator is needed, got {type(generator).__name__}")
        self.generator = generator
        self._bit_generator = bit_generator
        self._bitgen = <rex_bitgen *>PyCapsule_GetPointer(capsule, "BitGenerator")

    def __call__(self):
        return self._bitgen.next_double(self._bitgen.state)

    def __reduce__(self):
        return (UniformDraw, (self.generator,))
