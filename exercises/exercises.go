// Package exercises holds netlab's own lab exercises, one YAML file each
// (the format of lab/exercise: an instructor's course folder has the same
// files). To add one, copy a file, rename it, and write the prompt and the
// explanation in both languages in your own words.
package exercises

import (
	"embed"
	"io/fs"

	"github.com/netlab/netlab/lab/exercise"
	"github.com/netlab/netlab/lab/lesson"
)

//go:embed *.yaml
var files embed.FS

// Builtin parses the embedded exercises against the scenarios of cat.
func Builtin(cat lesson.Catalog) ([]*exercise.Exercise, error) {
	data := map[string][]byte{}
	names, err := fs.Glob(files, "*.yaml")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		b, err := files.ReadFile(n)
		if err != nil {
			return nil, err
		}
		data[n] = b
	}
	return exercise.ParseAll(data, ScenariosOf(cat))
}

// ScenariosOf is what exercise.Parse needs to know of a catalogue.
func ScenariosOf(cat lesson.Catalog) exercise.Scenarios {
	return func(name string) ([]string, int, bool) {
		sc, err := cat.Lookup(name)
		if err != nil {
			return nil, 0, false
		}
		return sc.Lanes, len(sc.Acts), true
	}
}
