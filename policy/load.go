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

// GroupsDir is the folder of per-group files inside the policy folder.
const GroupsDir = "groups.d"

// Policy is a parsed policy: the main file and the per-user and per-group
// files read with it.
type Policy struct {
	MainName   string // path of the main file, for errors
	Main       *File
	UserFiles  map[string]*Settings // by user name
	UserNames  map[string]string    // by user name: path of the file
	GroupFiles map[string]*Settings // by group name
	GroupNames map[string]string    // by group name: path of the file
	// GroupDB is the group database, read when the policy has group
	// settings; nil otherwise.
	GroupDB *GroupDB

	// scope is set by LoadForUser, which reads the files of one user
	// and of that user's groups only.
	scope *loadScope
	// broken holds, for LoadAllReport, the files that failed to load,
	// by "user/NAME" or "group/NAME", or "user/" or "group/" for a whole
	// folder or the group database.
	broken map[string]string
}

type loadScope struct {
	user   string
	groups map[string]bool // the user's groups, whose files were looked for
}

// Options controls how a policy is read.
type Options struct {
	// Trusted requires every policy file and folder, and the folders above
	// them, to be owned by root and not writable by group or others.
	Trusted bool
	// GroupFile and PasswdFile are the group and passwd databases;
	// empty means DefaultGroupFile and DefaultPasswdFile.
	GroupFile  string
	PasswdFile string
}

func (o Options) groupFile() string {
	if o.GroupFile == "" {
		return DefaultGroupFile
	}
	return o.GroupFile
}

func (o Options) passwdFile() string {
	if o.PasswdFile == "" {
		return DefaultPasswdFile
	}
	return o.PasswdFile
}

// LoadFile reads a single policy file, with no users.d or groups.d
// folder, and the group database when the file has group settings.
func LoadFile(path string, opts Options) (*Policy, error) {
	data, err := readPolicyFile(path, opts)
	if err != nil {
		return nil, err
	}
	main, err := ParseFile(path, data)
	if err != nil {
		return nil, err
	}
	p := &Policy{MainName: path, Main: main,
		UserFiles: map[string]*Settings{}, UserNames: map[string]string{},
		GroupFiles: map[string]*Settings{}, GroupNames: map[string]string{}}
	if len(main.Groups) > 0 {
		if err := p.readGroupDB(opts); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// LoadForUser reads the main file in dir, the per-user file of user and
// the per-group files of the user's groups, when they exist. A login reads
// only these files, so a broken file of another user or group does not
// lock this user out. The user's groups come from the group database and
// the primary group of the user's passwd entry.
func LoadForUser(dir, user string, opts Options) (*Policy, error) {
	p, err := loadMain(dir, opts)
	if err != nil {
		return nil, err
	}
	p.scope = &loadScope{user: user, groups: map[string]bool{}}
	if checkUserName(user) != nil {
		return p, nil
	}
	if err := p.addFile(filepath.Join(dir, UsersDir, user+".toml"), user, opts, ParseUserFile, p.UserFiles, p.UserNames); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}

	groupsDir := filepath.Join(dir, GroupsDir)
	_, statErr := os.Lstat(groupsDir)
	if len(p.Main.Groups) == 0 && errors.Is(statErr, fs.ErrNotExist) {
		return p, nil
	}
	if statErr == nil && opts.Trusted {
		if err := lstatTrusted(groupsDir); err != nil {
			return nil, untrusted("policy folder", err)
		}
	}
	if err := p.readGroupDB(opts); err != nil {
		return nil, err
	}
	gid := -1
	if u, err := LookupName(opts.passwdFile(), user); err == nil {
		gid = u.GID
	}
	for _, g := range p.GroupDB.GroupsOf(user, gid) {
		p.scope.groups[g] = true
		if checkGroupName(g) != nil {
			continue
		}
		if err := p.addFile(filepath.Join(groupsDir, g+".toml"), g, opts, ParseGroupFile, p.GroupFiles, p.GroupNames); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return p, nil
}

// LoadAll reads the main file in dir and every per-user and per-group
// file. It reports every file that fails, joined in one error, and then
// returns no policy.
func LoadAll(dir string, opts Options) (*Policy, error) {
	p, errs := LoadAllReport(dir, opts)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// ErrBrokenFile is returned by Resolve, on a policy from LoadAllReport,
// for a user whose own file or whose group's file failed to load.
var ErrBrokenFile = errors.New("policy file has errors")

// LoadAllReport reads the policy as LoadAll does, for jailctl check: it
// returns every error, and a policy without the files that failed, or nil
// when the main file failed. Resolve refuses the users that a failed file
// may concern, with ErrBrokenFile, so that no one is checked against a
// policy that lacks their file.
func LoadAllReport(dir string, opts Options) (*Policy, []error) {
	p, err := loadMain(dir, opts)
	if err != nil {
		return nil, []error{err}
	}
	p.broken = map[string]string{}
	var errs []error
	folders := []struct {
		name  string
		kind  string
		check func(string) error
		parse func(string, []byte) (*Settings, error)
		files map[string]*Settings
		names map[string]string
	}{
		{UsersDir, "user", checkUserName, ParseUserFile, p.UserFiles, p.UserNames},
		{GroupsDir, "group", checkGroupName, ParseGroupFile, p.GroupFiles, p.GroupNames},
	}
	for _, f := range folders {
		folder := filepath.Join(dir, f.name)
		if _, err := os.Lstat(folder); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		var err error
		if opts.Trusted {
			if err = lstatTrusted(folder); err != nil {
				err = untrusted("policy folder", err)
			}
		}
		var entries []os.DirEntry
		if err == nil {
			entries, err = os.ReadDir(folder)
		}
		if err != nil {
			errs = append(errs, err)
			p.broken[f.kind+"/"] = folder
			continue
		}
		for _, e := range entries {
			name, ok := strings.CutSuffix(e.Name(), ".toml")
			if !ok {
				continue
			}
			path := filepath.Join(folder, e.Name())
			if err := f.check(name); err != nil {
				errs = append(errs, &Error{File: path, Msg: err.Error() + "; name the file after the " + f.kind + ", as NAME.toml"})
				continue
			}
			if err := p.addFile(path, name, opts, f.parse, f.files, f.names); err != nil {
				errs = append(errs, err)
				p.broken[f.kind+"/"+name] = path
			}
		}
	}
	if len(p.Main.Groups) > 0 || len(p.GroupFiles) > 0 || len(p.broken) > 0 {
		if err := p.readGroupDB(opts); err != nil {
			errs = append(errs, err)
			p.broken["group/"] = opts.groupFile()
		}
	}
	return p, errs
}

// checkBroken returns ErrBrokenFile when a file that LoadAllReport could
// not read may hold settings of u.
func (p *Policy) checkBroken(u User) error {
	if len(p.broken) == 0 {
		return nil
	}
	keys := []string{"user/", "user/" + u.Name, "group/"}
	for _, g := range p.GroupDB.GroupsOf(u.Name, u.GID) {
		keys = append(keys, "group/"+g)
	}
	for _, k := range keys {
		if path, ok := p.broken[k]; ok {
			return fmt.Errorf("%w: user %s cannot be checked until %s is fixed", ErrBrokenFile, u.Name, path)
		}
	}
	return nil
}

func loadMain(dir string, opts Options) (*Policy, error) {
	if opts.Trusted {
		if err := CheckTrustedPath(dir); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("policy folder %s is missing; create it with a %s (see jailsh.toml(5)): %w", dir, MainFile, err)
		} else if err != nil {
			return nil, untrusted("policy folder", err)
		}
	}
	return LoadFile(filepath.Join(dir, MainFile), opts)
}

// readGroupDB reads the group database. Its errors do not wrap
// fs.ErrNotExist, which callers take to mean that the policy is missing.
func (p *Policy) readGroupDB(opts Options) error {
	if p.GroupDB != nil {
		return nil
	}
	db, err := ReadGroupFile(opts.groupFile())
	if err != nil {
		return fmt.Errorf("policy %s has group settings, but the group database cannot be read: %v", p.MainName, err)
	}
	p.GroupDB = db
	return nil
}

// addFile reads the users.d or groups.d file at path into files and names
// under name, after checking its folder and the file itself.
func (p *Policy) addFile(path, name string, opts Options, parse func(string, []byte) (*Settings, error), files map[string]*Settings, names map[string]string) error {
	if opts.Trusted {
		if err := lstatTrusted(filepath.Dir(path)); err != nil {
			return untrusted("policy folder", err)
		}
	}
	data, err := readPolicyFile(path, opts)
	if err != nil {
		return err
	}
	s, err := parse(path, data)
	if err != nil {
		return err
	}
	files[name] = s
	names[name] = path
	return nil
}

// untrusted wraps an error from reading or checking a policy file or
// folder. A missing path and one the reader may not reach are not
// questions of trust: the first passes through, so that callers see
// fs.ErrNotExist, and the second gets its fix.
func untrusted(kind string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return err
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w; every jailed user must be able to read the policy: run chmod a+r on its files and a+x on its folders, then jailctl check", err)
	}
	return fmt.Errorf("untrusted %s: %w", kind, err)
}

func readPolicyFile(path string, opts Options) ([]byte, error) {
	if opts.Trusted {
		if err := lstatTrusted(path); err != nil {
			return nil, untrusted("policy file", err)
		}
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrPermission) {
		return nil, untrusted("policy file", err)
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("policy file %s is not a regular file; replace it with a file", path)
	}
	if fi.Size() > MaxFileSize {
		return nil, &Error{File: path, Msg: fmt.Sprintf("file is %d bytes, larger than the limit of %d; a policy file is a few kilobytes", fi.Size(), MaxFileSize)}
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
	return sortedKeys(seen)
}

// Groups returns the names of the groups the policy has settings for.
func (p *Policy) Groups() []string {
	seen := map[string]bool{}
	for g := range p.Main.Groups {
		seen[g] = true
	}
	for g := range p.GroupFiles {
		seen[g] = true
	}
	return sortedKeys(seen)
}

// GroupPlace returns where group g's settings are: its groups.d file, or
// else its table in the main file.
func (p *Policy) GroupPlace(g string) Place {
	if f, ok := p.GroupNames[g]; ok {
		return Place{File: f}
	}
	if s, ok := p.Main.Groups[g]; ok {
		return s.origin.place()
	}
	return Place{File: p.MainName}
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
