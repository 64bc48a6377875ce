package policy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MainFile is the main policy file's name inside the policy folder.
const MainFile = "jailsh.toml"

// UsersDir is the folder of per-user files inside the policy folder.
const UsersDir = "users.d"

// Policy is a parsed policy: the main file and the per-user files read
// with it.
type Policy struct {
	MainName  string // path of the main file, for errors
	Main      *File
	UserFiles map[string]*Settings // by user name
	UserNames map[string]string    // by user name: path of the file
}

// Options controls how a policy is read.
type Options struct {
	// Trusted requires every policy file and folder, and the folders above
	// them, to be owned by root and writable by nobody else.
	Trusted bool
}

// LoadFile reads a single policy file, with no users.d folder.
func LoadFile(path string, opts Options) (*Policy, error) {
	data, err := readPolicyFile(path, opts)
	if err != nil {
		return nil, err
	}
	main, err := ParseFile(path, data)
	if err != nil {
		return nil, err
	}
	return &Policy{MainName: path, Main: main, UserFiles: map[string]*Settings{}, UserNames: map[string]string{}}, nil
}

// LoadForUser reads the main file in dir and the one per-user file of
// user, if there is one. A login reads only these two files.
func LoadForUser(dir, user string, opts Options) (*Policy, error) {
	p, err := loadMain(dir, opts)
	if err != nil {
		return nil, err
	}
	if checkUserName(user) != nil {
		return p, nil
	}
	if err := p.addUserFile(filepath.Join(dir, UsersDir, user+".toml"), user, opts); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return p, nil
}

// LoadAll reads the main file in dir and every per-user file.
func LoadAll(dir string, opts Options) (*Policy, error) {
	p, err := loadMain(dir, opts)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(filepath.Join(dir, UsersDir))
	if errors.Is(err, fs.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read policy folder: %w", err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".toml")
		if !ok {
			continue
		}
		path := filepath.Join(dir, UsersDir, e.Name())
		if err := checkUserName(name); err != nil {
			return nil, &Error{File: path, Msg: err.Error() + "; name the file after the user, as NAME.toml"}
		}
		if err := p.addUserFile(path, name, opts); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func loadMain(dir string, opts Options) (*Policy, error) {
	if opts.Trusted {
		if err := CheckTrustedPath(dir); err != nil {
			return nil, fmt.Errorf("untrusted policy folder: %w", err)
		}
	}
	return LoadFile(filepath.Join(dir, MainFile), opts)
}

func (p *Policy) addUserFile(path, user string, opts Options) error {
	if opts.Trusted {
		if err := lstatTrusted(filepath.Dir(path)); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return err
			}
			return fmt.Errorf("untrusted policy folder: %w", err)
		}
	}
	data, err := readPolicyFile(path, opts)
	if err != nil {
		return err
	}
	s, err := ParseUserFile(path, data)
	if err != nil {
		return err
	}
	p.UserFiles[user] = s
	p.UserNames[user] = path
	return nil
}

func readPolicyFile(path string, opts Options) ([]byte, error) {
	if opts.Trusted {
		if err := lstatTrusted(path); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
			return nil, fmt.Errorf("untrusted policy file: %w", err)
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("policy file %s is not a regular file", path)
	}
	// Read one byte past the limit so that ParseFile can report the size.
	return io.ReadAll(io.LimitReader(f, MaxFileSize+1))
}

// Users returns the names of the users the policy has an entry for.
func (p *Policy) Users() []string {
	seen := map[string]bool{}
	for u := range p.Main.Users {
		seen[u] = true
	}
	for u := range p.UserFiles {
		seen[u] = true
	}
	var out []string
	for u := range seen {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}
