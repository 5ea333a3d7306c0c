// SPDX-License-Identifier: GPL-2.0
/*
 * What pisteer learns of KVM without any KVM-internal symbol: which open
 * files are VMs, and whether the vendor module runs with APICv/AVIC.
 *
 * A VM file is the anonymous-inode file KVM creates as "kvm-vm" with
 * kvm_vm_fops, whose owner KVM sets to the vendor module (kvm_intel or
 * kvm_amd) on every supported kernel; its private_data is the struct kvm.
 * No other file is an anonymous inode of that name owned by those modules.
 * (file_is_kvm() would say the same, but from 6.18 on it is exported to the
 * vendor modules only.)
 *
 * Whether APICv is on is the vendor module's own read-only parameter,
 * the value /sys/module/<vendor>/parameters shows, read through the
 * module's kernel_param table: kvm_intel's enable_apicv is KVM's global
 * (cleared when the CPU lacks APICv), kvm_amd's avic is set to the outcome
 * of its hardware set-up.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/kvm_host.h>
#include <linux/magic.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/pisteer.h>
#include <linux/string.h>

#include "pisteer.h"
#include "compat/compat.h"

#define VM_FILE_NAME	"kvm-vm"	/* anon_inode_getfile() in kvm_create_vm */

static const struct {
	const char *module;
	const char *param;
} apicv_params[] = {
	{ "kvm_intel", "enable_apicv" },
	{ "kvm_amd", "avic" },
};

static const char *apicv_param_of(const struct module *mod)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(apicv_params); i++)
		if (!strcmp(mod->name, apicv_params[i].module))
			return apicv_params[i].param;
	return NULL;
}

#if !PST_VM_FOPS_OWNED
/* Is @fops KVM's kvm_vm_fops?  The address found is remembered. */
static bool is_kvm_vm_fops(const struct file_operations *fops)
{
	static const void *known;

	if (!fops->release)
		return false;
	if (fops == READ_ONCE(known))
		return true;
	if (!pst_symbol_is(fops->release, "kvm_vm_release"))
		return false;
	WRITE_ONCE(known, fops);
	return true;
}
#endif

/**
 * pst_vm_file() - is @file a KVM VM, and of which vendor module
 * @file: an open file (its fd table lock held by the caller)
 * @vendor: set to the vendor module (kvm_intel, kvm_amd); NULL on kernels
 *	whose VM files name no owner (compat/kvm_vm.h)
 *
 * Context: any; takes no lock.
 * Return: true for a VM file.
 */
bool pst_vm_file(struct file *file, struct module **vendor)
{
	const struct file_operations *fops = file->f_op;
	struct module *owner = fops ? fops->owner : NULL;

	if (!fops || file_inode(file)->i_sb->s_magic != ANON_INODE_FS_MAGIC)
		return false;
	/* A pseudo file's dentry name never changes. */
	if (strcmp(file->f_path.dentry->d_name.name, VM_FILE_NAME))
		return false;
#if PST_VM_FOPS_OWNED
	if (!owner || !apicv_param_of(owner))
		return false;
#else
	if (owner || !is_kvm_vm_fops(fops))
		return false;
#endif
	*vendor = owner;
	return !!file->private_data;
}

/**
 * pst_vm_apicv() - is APICv/AVIC on for @kvm
 * @kvm: the VM, referenced by the caller
 * @mod: its vendor module, held by the caller (pisteer_vm_ref), or NULL
 *
 * Context: process; may sleep.
 * Return: PST_APICV_ON, PST_APICV_OFF, or PST_APICV_UNKNOWN when the module
 * has no such parameter (recorded as host feature APICV_PARAM).
 */
enum pst_apicv pst_vm_apicv(struct kvm *kvm, struct module *mod)
{
	const char *want = mod ? apicv_param_of(mod) : NULL;
	enum pst_apicv ret = PST_APICV_UNKNOWN;
	unsigned int i;
	char *buf;
	int n = -ENOENT;

#if !PST_VM_FOPS_OWNED
	if (!mod) {
		pst_host_feature(PISTEER_HOST_APICV_PARAM, 0);
		return pst_kvm_apicv_disabled(kvm) ? PST_APICV_OFF : PST_APICV_ON;
	}
#endif
	if (!want)
		goto out;
	/* param_get_*() write with sysfs_emit(): a whole page. */
	buf = (char *)__get_free_page(GFP_KERNEL);
	if (!buf)
		return PST_APICV_UNKNOWN;
	kernel_param_lock(mod);
	for (i = 0; i < mod->num_kp; i++) {
		const struct kernel_param *kp = &mod->kp[i];

		if (!strcmp(kp->name, want) && kp->ops && kp->ops->get) {
			n = kp->ops->get(buf, kp);
			break;
		}
	}
	kernel_param_unlock(mod);
	if (n > 0 && strchr("Yy1", buf[0]))
		ret = PST_APICV_ON;
	else if (n > 0 && strchr("Nn0", buf[0]))
		ret = PST_APICV_OFF;
	free_page((unsigned long)buf);
out:
	pst_host_feature(PISTEER_HOST_APICV_PARAM,
			 ret == PST_APICV_UNKNOWN ? -ENOENT : 0);
	return ret;
}
