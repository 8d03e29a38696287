package e2e

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// validate runs `otelcol-goruntime validate` on a config of config/ with env.
func validate(t *testing.T, config string, env map[string]string) {
	t.Helper()
	cmd := exec.Command(collectorBinary(t), "validate", "--config", filepath.Join(repoRoot, "config", config))
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("validate %s with %v: %v\n%s", config, env, err, out)
	}
}

// installedConfig maps /etc/otelcol-goruntime/NAME.yaml, where the
// deployment files install config/NAME.yaml, back to NAME.yaml.
func installedConfig(t *testing.T, path string) string {
	t.Helper()
	name, ok := strings.CutPrefix(path, "/etc/otelcol-goruntime/")
	if !ok {
		t.Fatalf("config %q is not under /etc/otelcol-goruntime/", path)
	}
	if _, err := os.Stat(filepath.Join(repoRoot, "config", name)); err != nil {
		t.Fatalf("config %q is installed from config/%s, which does not exist", path, name)
	}
	return name
}

// TestSystemdUnits checks each unit with systemd's own verifier and
// validates the config it starts with the environment it sets.
func TestSystemdUnits(t *testing.T) {
	analyze := requireTool(t, "systemd-analyze", "apt-get install -y systemd")
	units, err := filepath.Glob(filepath.Join(repoRoot, "deploy", "systemd", "*.service"))
	if err != nil || len(units) != 2 {
		t.Fatalf("want the agent and gateway units, got %v (%v)", units, err)
	}
	for _, unit := range units {
		text, err := os.ReadFile(unit)
		if err != nil {
			t.Fatal(err)
		}
		env := map[string]string{}
		var config string
		for line := range strings.SplitSeq(string(text), "\n") {
			if v, ok := strings.CutPrefix(line, "Environment="); ok {
				k, val, _ := strings.Cut(v, "=")
				env[k] = val
			}
			if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
				f := strings.Fields(v)
				if len(f) != 3 || f[0] != "/usr/local/bin/otelcol-goruntime" || f[1] != "--config" {
					t.Errorf("%s: ExecStart=%s, want /usr/local/bin/otelcol-goruntime --config FILE", unit, v)
					continue
				}
				config = installedConfig(t, f[2])
			}
		}
		if config == "" {
			t.Fatalf("%s: no ExecStart", unit)
		}
		// systemd-analyze checks the executable exists: point it at the
		// built one in a copy.
		copyPath := filepath.Join(t.TempDir(), filepath.Base(unit))
		writeFile(t, copyPath, strings.ReplaceAll(string(text), "/usr/local/bin/otelcol-goruntime", collectorBinary(t)))
		out, err := exec.Command(analyze, "verify", "--man=no", copyPath).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) != 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", filepath.Base(unit), err, out)
		}
		// The data directory is the unit's state directory.
		if env["OTELCOL_GORUNTIME_DATA"] == "" || !strings.Contains(string(text), "StateDirectory="+filepath.Base(env["OTELCOL_GORUNTIME_DATA"])) {
			t.Errorf("%s: OTELCOL_GORUNTIME_DATA %q is not its StateDirectory", unit, env["OTELCOL_GORUNTIME_DATA"])
		}
		env["OTELCOL_GORUNTIME_DATA"] = t.TempDir()
		validate(t, config, env)
	}
}

type k8sContainer struct {
	Args []string `yaml:"args"`
	Env  []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom any    `yaml:"valueFrom"`
	} `yaml:"env"`
	Ports []struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
	} `yaml:"ports"`
	VolumeMounts []struct {
		Name      string `yaml:"name"`
		MountPath string `yaml:"mountPath"`
	} `yaml:"volumeMounts"`
}

type k8sObject struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Template struct {
			Spec struct {
				HostPID    bool           `yaml:"hostPID"`
				Containers []k8sContainer `yaml:"containers"`
				Volumes    []struct {
					Name      string `yaml:"name"`
					ConfigMap *struct {
						Name string `yaml:"name"`
					} `yaml:"configMap"`
					HostPath *struct {
						Path string `yaml:"path"`
					} `yaml:"hostPath"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
		Ports []struct {
			Port       int    `yaml:"port"`
			TargetPort string `yaml:"targetPort"`
		} `yaml:"ports"`
	} `yaml:"spec"`
}

func readManifests(t *testing.T, file string) map[string]k8sObject {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "deploy", "kubernetes", file))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	out := map[string]k8sObject{}
	dec := yaml.NewDecoder(f)
	for {
		var o k8sObject
		if err := dec.Decode(&o); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		out[o.Kind] = o
	}
	return out
}

// podConfig checks that the pod's one container runs a config of config/
// mounted from a ConfigMap, and returns that config and the container's
// environment (values from the downward API as a placeholder).
func podConfig(t *testing.T, o k8sObject) (string, map[string]string, k8sContainer) {
	t.Helper()
	spec := o.Spec.Template.Spec
	if len(spec.Containers) != 1 {
		t.Fatalf("%s: %d containers", o.Kind, len(spec.Containers))
	}
	c := spec.Containers[0]
	if len(c.Args) != 1 || !strings.HasPrefix(c.Args[0], "--config=") {
		t.Fatalf("%s: args %v, want --config=FILE", o.Kind, c.Args)
	}
	config := installedConfig(t, strings.TrimPrefix(c.Args[0], "--config="))
	mounted := false
	for _, m := range c.VolumeMounts {
		for _, v := range spec.Volumes {
			if v.Name == m.Name && v.ConfigMap != nil && m.MountPath == "/etc/otelcol-goruntime" {
				mounted = true
			}
		}
	}
	if !mounted {
		t.Errorf("%s: no ConfigMap mounted at /etc/otelcol-goruntime", o.Kind)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
		if e.ValueFrom != nil {
			env[e.Name] = "node-1"
		}
	}
	return config, env, c
}

// TestKubernetesManifests checks the agent DaemonSet can discover (host PID
// namespace, the host's /proc where the config looks), the gateway's
// Service reaches the ports its config listens on, and both configs
// validate with the environment the manifests give them.
func TestKubernetesManifests(t *testing.T) {
	agent := readManifests(t, "agent-daemonset.yaml")["DaemonSet"]
	config, env, c := podConfig(t, agent)
	if !agent.Spec.Template.Spec.HostPID {
		t.Error("the agent DaemonSet needs hostPID: true to see the node's processes")
	}
	procMounted := false
	for _, m := range c.VolumeMounts {
		for _, v := range agent.Spec.Template.Spec.Volumes {
			if v.Name == m.Name && v.HostPath != nil && v.HostPath.Path == "/proc" && m.MountPath == env["OTELCOL_GORUNTIME_PROC"] {
				procMounted = true
			}
		}
	}
	if !procMounted {
		t.Errorf("the host's /proc is not mounted where OTELCOL_GORUNTIME_PROC (%q) says", env["OTELCOL_GORUNTIME_PROC"])
	}
	env["OTELCOL_GORUNTIME_PROC"] = "/proc" // this machine's, for validate
	env["OTELCOL_GORUNTIME_DATA"] = t.TempDir()
	validate(t, config, env)

	gw := readManifests(t, "gateway.yaml")
	config, env, c = podConfig(t, gw["Deployment"])
	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	for _, p := range gw["Service"].Spec.Ports {
		if ports[p.TargetPort] == 0 {
			t.Errorf("Service port %d targets %q, which the container does not name", p.Port, p.TargetPort)
		}
	}
	for envName, portName := range map[string]string{
		"OTELCOL_GORUNTIME_OTLP_HTTP": "otlp-http", "OTELCOL_GORUNTIME_OTLP_GRPC": "otlp-grpc",
		"OTELCOL_GORUNTIME_API": "query-api", "OTELCOL_GORUNTIME_HEALTH": "health",
	} {
		_, port, _ := strings.Cut(env[envName], ":")
		if want := ports[portName]; want == 0 || port != strconv.Itoa(want) {
			t.Errorf("%s=%q does not listen on container port %s (%d)", envName, env[envName], portName, want)
		}
	}
	env["OTELCOL_GORUNTIME_DATA"] = t.TempDir()
	validate(t, config, env)
}

// TestStaticBinary checks the image's build: the Dockerfile builds with
// make build, whose binary is static (no dynamic loader), so it runs on an
// empty base image.
func TestStaticBinary(t *testing.T) {
	f, err := elf.Open(collectorBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the collector binary is dynamically linked: build it with CGO_ENABLED=0 (make build)")
		}
	}
	df, err := os.Open(filepath.Join(repoRoot, "deploy", "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = df.Close() }()
	var build, copyBin, scratch bool
	for s := bufio.NewScanner(df); s.Scan(); {
		line := strings.TrimSpace(s.Text())
		build = build || line == "RUN make build"
		copyBin = copyBin || strings.HasPrefix(line, "COPY --from=build /src/bin/otelcol-goruntime ")
		scratch = scratch || line == "FROM scratch"
	}
	if !build || !copyBin || !scratch {
		t.Errorf("deploy/Dockerfile must build with `make build` and copy bin/otelcol-goruntime onto scratch (build %v, copy %v, scratch %v)", build, copyBin, scratch)
	}
}
