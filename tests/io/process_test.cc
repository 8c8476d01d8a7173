// The main job (examples/logistic_regression) and `nums convert` run as processes on files that
// NumPy and h5py (/usr/bin/python3) wrote; what they write is checked by NumPy and h5py too.
// The fitted coefficients are compared with Newton's method written in NumPy, and also with
// scikit-learn's LogisticRegression when /usr/bin/python3 can import it (the output says which).

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <string>

#include "tests/io/io_testing.h"
#include "tests/io/s3_server.h"

namespace nums::testing {
namespace {

std::string Job() { return std::string(LOGISTIC_REGRESSION_PATH) + " --nodes 2 --l2 1"; }
std::string Nums() { return NUMS_TOOL_PATH; }

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE((text).find(part), std::string::npos) << "'" << (part) << "' not in:\n" << (text)

// 500 samples of 3 features with labels drawn from a known logistic model, in every format.
constexpr const char* kMakeData = R"py(
import numpy as np, h5py
rng = np.random.default_rng(5)
n, d = 500, 3
X = rng.normal(size=(n, d))
y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(X @ [1.0, -2.0, 0.5] + 0.3)))).astype(np.float64)
np.save("X.npy", X)
np.save("y.npy", y)
np.save("y2d.npy", y.astype(np.int64).reshape(n, 1))
np.save("y_short.npy", y[:-1])
np.save("y_bad.npy", np.where(y > 0, 2.0, 0.0))
with h5py.File("data.h5", "w") as f:
    f["X"] = X
    f["labels/y"] = y.astype(bool)
np.savetxt("X.csv", X, delimiter=",", header="a,b,c", comments="", fmt="%.17g")
np.savetxt("y.csv", y, delimiter=",", header="label", comments="", fmt="%.17g")
)py";

// Checks coefficients [coef..., intercept] read by `load` against Newton's method in NumPy on
// the same objective (sum of log-losses + 1/2 ||coef||^2, intercept not penalised) and, when it
// can be imported, scikit-learn's LogisticRegression(C=1).
std::string CheckCoefficients(const std::string& load) {
  return R"py(
import numpy as np, h5py
X = np.load("X.npy"); y = np.load("y.npy"); n, d = X.shape
w = np.asarray()py" +
         load + R"py(, dtype=np.float64).reshape(-1)
assert w.shape == (d + 1,), w.shape
A = np.hstack([X, np.ones((n, 1))])
P = np.diag([1.0] * d + [0.0])
beta = np.zeros(d + 1)
for _ in range(50):
    p = 1 / (1 + np.exp(-A @ beta))
    g = A.T @ (p - y) + P @ beta
    if np.abs(g).max() < 1e-12:
        break
    beta -= np.linalg.solve(A.T @ (A * (p * (1 - p))[:, None]) + P, g)
assert np.allclose(w, beta, rtol=1e-6, atol=1e-7), (w, beta)
try:
    from sklearn.linear_model import LogisticRegression
except ImportError:
    print("reference: NumPy Newton iterations (scikit-learn is not importable)")
else:
    m = LogisticRegression(C=1.0, tol=1e-12, max_iter=10000).fit(X, y)
    ref = np.append(m.coef_.ravel(), m.intercept_)
    assert np.allclose(w, ref, rtol=1e-4, atol=1e-4), (w, ref)
    print("reference: NumPy Newton iterations and scikit-learn")
)py";
}

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const PythonResult r = RunPython(kMakeData, dir_.path());
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  void ExpectPython(const std::string& script) {
    const PythonResult r = RunPython(script, dir_.path());
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::printf("%s", r.output.c_str());  // which reference the coefficients were checked with
  }
  TempDir dir_;
};

TEST_F(ProcessTest, MainJobFitsAnHdf5DatasetAndWritesNpy) {
  const CommandResult r = RunCommand(
      Job() + " --input data.h5:/X --labels data.h5:/labels/y --output w.npy", dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "X from data.h5:/X");
  EXPECT_CONTAINS(r.output, "converged");
  ExpectPython(CheckCoefficients("np.load('w.npy')"));
}

TEST_F(ProcessTest, MainJobFitsNpyWithColumnLabelsAndWritesHdf5WithAttributes) {
  const CommandResult r =
      RunCommand(Job() + " --input X.npy --labels y2d.npy --block-rows 64 --output w.h5:/model/w",
                 dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "8 row blocks of 64 rows");
  ExpectPython(CheckCoefficients("h5py.File('w.h5', 'r')['/model/w'][()]"));
  ExpectPython(R"py(
import h5py
a = h5py.File("w.h5", "r")["/model/w"].attrs
assert a["n_features"] == 3 and a["solver"] == "newton" and a["converged"] == 1, dict(a)
assert a["layout"] == "coef_0 .. coef_{n_features-1}, intercept", a["layout"]
)py");
}

// The main job and `nums convert` on S3 (s3rver on loopback): the inputs uploaded by `nums
// convert`, the fit read from S3, the coefficients written back to S3 and converted down.
TEST_F(ProcessTest, MainJobAndConvertReadAndWriteS3) {
  S3Server::Get().UseInEnvironment();  // the processes inherit the settings
  const std::string prefix = std::string("s3://") + S3Server::kBucket + "/process/";
  CommandResult r = RunCommand(Nums() + " convert X.npy " + prefix + "X.npy", dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = RunCommand(Nums() + " convert data.h5:/labels/y " + prefix + "y.zarr", dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = RunCommand(Job() + " --input " + prefix + "X.npy --labels " + prefix + "y.zarr --output " +
                     prefix + "w.npy",
                 dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "converged");
  r = RunCommand(Nums() + " convert " + prefix + "w.npy w_from_s3.npy", dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ExpectPython(CheckCoefficients("np.load('w_from_s3.npy')"));
}

TEST_F(ProcessTest, MainJobFitsCsvWithHeadersAndWritesCsv) {
  const CommandResult r =
      RunCommand(Job() + " --input X.csv --labels y.csv --csv-header --output w.csv", dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ExpectPython(CheckCoefficients("np.loadtxt('w.csv', delimiter=',')"));
}

TEST_F(ProcessTest, MainJobRejectsMismatchedOrBadInputsClearly) {
  struct Case {
    std::string args;
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {"--input X.npy --labels y_short.npy",
       {"'X.npy' of shape (500, 3)", "'y_short.npy' of shape (499,)", "different numbers of rows"}},
      {"--input X.npy --labels y_bad.npy", {"'y_bad.npy'", "are not 0 or 1"}},
      {"--input X.npy --labels y.npy --output w.txt", {"'w.txt'", "accepted forms"}},
      {"--input data.h5 --labels y.npy", {"'data.h5'", "add ':/name'"}},
      {"--input y.npy --labels y.npy", {"'y.npy' has shape (500,)", "2-d"}},
      {"--input missing.npy --labels y.npy", {"missing.npy"}},
      {"--input X.npy", {"--labels"}},
      {"--labels y.npy", {"--input"}},
      {"--input X.npy --labels y.npy --rows 10", {"--rows"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args);
    const CommandResult r = RunCommand(Job() + " " + c.args, dir_.path());
    EXPECT_NE(r.exit_code, 0) << r.output;
    for (const std::string& part : c.parts) EXPECT_CONTAINS(r.output, part);
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "w.txt"));
}

TEST_F(ProcessTest, ConvertMovesDatasetsBetweenNpyHdf5AndCsv) {
  ASSERT_EQ(RunPython(R"py(
import numpy as np, h5py
rng = np.random.default_rng(1)
np.save("a.npy", rng.normal(size=(37, 5)).astype(np.float32))
with h5py.File("b.h5", "w") as f:
    f["grp/B"] = rng.integers(-1000, 1000, size=(11, 4), dtype=np.int32)
)py",
                      dir_.path())
                .exit_code,
            0);
  CommandResult r = RunCommand(Nums() + " convert a.npy a.h5:/X --block-shape 8,5", dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_CONTAINS(r.output, "a.npy -> a.h5:/X: shape (37, 5) float32, (5, 1) blocks of (8, 5)");
  r = RunCommand(Nums() + " convert b.h5:/grp/B b.npy", dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = RunCommand(Nums() + " convert --nodes 2 a.h5:/X back.npy", dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = RunCommand(Nums() + " convert X.csv x_from_csv.h5:/X --csv-header --compression gzip",
                 dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = RunCommand(Nums() + " convert b.npy b.csv", dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ExpectPython(R"py(
import numpy as np, h5py
a = np.load("a.npy")
with h5py.File("a.h5", "r") as f:
    assert f["X"].dtype == np.float32 and f["X"].chunks == (8, 5), (f["X"].dtype, f["X"].chunks)
    assert np.array_equal(f["X"][()], a)
assert np.array_equal(np.load("back.npy"), a) and np.load("back.npy").dtype == np.float32
b = h5py.File("b.h5", "r")["grp/B"][()]
assert np.load("b.npy").dtype == np.int32 and np.array_equal(np.load("b.npy"), b)
assert np.array_equal(np.loadtxt("b.csv", delimiter=",", dtype=np.int64), b)
with h5py.File("x_from_csv.h5", "r") as f:
    assert f["X"].compression == "gzip"
    assert np.array_equal(f["X"][()], np.load("X.npy"))
)py");
}

TEST_F(ProcessTest, ConvertRejectsBadSpecsBeforeReading) {
  struct Case {
    std::string args;
    std::string part;
  };
  const std::vector<Case> cases = {
      {"X.npy X.h5", "add ':/name'"},
      {"X.npy out.bin", "accepted forms"},
      {"missing.npy m.npy", "missing.npy"},
      {"X.npy m.npy --compression gzip", "HDF5"},
      {"X.npy m.npy --block-shape 10", "(10,)"},
      {"X.npy", "DST"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args);
    const CommandResult r = RunCommand(Nums() + " convert " + c.args, dir_.path());
    EXPECT_NE(r.exit_code, 0) << r.output;
    EXPECT_CONTAINS(r.output, c.part);
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "m.npy"));
}

}  // namespace
}  // namespace nums::testing
