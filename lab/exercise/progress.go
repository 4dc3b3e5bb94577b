package exercise

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"time"
)

// Progress is what a learner has done with the exercises, kept between
// sessions in StatePath.
type Progress struct {
	Exercises map[string]*Record `json:"exercises"`
}

// Record is one exercise's history.
type Record struct {
	Done     bool `json:"done"`     // answered right at least once
	Attempts int  `json:"attempts"` // answers graded, right or wrong
	Hints    int  `json:"hints"`    // hints taken (none exist yet)
	// Best is the shortest time from being asked (netlab exercise NAME)
	// to a right answer, in seconds; 0 if never timed.
	Best  float64   `json:"best_seconds,omitempty"`
	Asked time.Time `json:"asked,omitzero"` // when the question was last shown
	Last  time.Time `json:"last,omitzero"`  // when last graded
}

// Env is what StatePath reads of the environment (os.Getenv in the
// program; a map in tests).
type Env func(string) string

// StatePath is where progress is kept: $XDG_STATE_HOME/netlab/progress.json,
// else ~/.local/state/netlab/progress.json of the invoking user — under
// sudo, the user who ran sudo, not root.
func StatePath(env Env) (string, error) {
	if d := env("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return filepath.Join(d, "netlab", "progress.json"), nil
	}
	home := env("HOME")
	if uid := env("SUDO_UID"); uid != "" {
		if u, err := user.LookupId(uid); err == nil {
			home = u.HomeDir
		}
	}
	if home == "" {
		return "", errors.New("no HOME and no XDG_STATE_HOME: nowhere to keep progress")
	}
	return filepath.Join(home, ".local", "state", "netlab", "progress.json"), nil
}

// LoadProgress reads the progress file; a missing file is no progress.
func LoadProgress(path string) (*Progress, error) {
	p := &Progress{Exercises: map[string]*Record{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(b, p); err != nil {
		return &Progress{Exercises: map[string]*Record{}}, fmt.Errorf("%s: %w (starting afresh)", path, err)
	}
	if p.Exercises == nil {
		p.Exercises = map[string]*Record{}
	}
	return p, nil
}

// Save writes the progress file whole (a temporary file renamed over it,
// so a crash never leaves half a file), creating its folder; under sudo
// both are given to the user who ran sudo.
func (p *Progress) Save(path string, env Env) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".progress-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(append(b, '\n'))
	if err := errors.Join(werr, tmp.Close()); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if uid, gid := env("SUDO_UID"), env("SUDO_GID"); uid != "" && gid != "" {
		u, _ := strconv.Atoi(uid)
		g, _ := strconv.Atoi(gid)
		for _, d := range []string{filepath.Dir(dir), dir, tmp.Name()} {
			_ = os.Chown(d, u, g)
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}

func (p *Progress) record(name string) *Record {
	r := p.Exercises[name]
	if r == nil {
		r = &Record{}
		p.Exercises[name] = r
	}
	return r
}

// Asked notes that the question was shown at t.
func (p *Progress) Asked(name string, t time.Time) { p.record(name).Asked = t }

// Graded notes an answer graded at t.
func (p *Progress) Graded(name string, correct bool, t time.Time) {
	r := p.record(name)
	r.Attempts++
	r.Last = t
	if correct {
		r.Done = true
		if !r.Asked.IsZero() && t.After(r.Asked) {
			if s := t.Sub(r.Asked).Seconds(); r.Best == 0 || s < r.Best {
				r.Best = s
			}
		}
		r.Asked = time.Time{}
	}
}
