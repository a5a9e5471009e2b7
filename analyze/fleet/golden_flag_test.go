package fleet

// go test ./... -update must be accepted by every test binary.
import _ "github.com/iorca/iorca/internal/golden"
